#include "causeway/amqp/channel_group.hpp"

#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/queue_channel.hpp"
#include "causeway/detail/split_messages.hpp"

#include <algorithm>
#include <exception>
#include <string>

namespace causeway::amqp::detail {

channel_group::channel_group(const queue_source_options& options,
                             std::shared_ptr<queue_channel_counters> counters)
  : route_by_(options.route_by),
    on_read_(options.on_read),
    prefetch_count_(options.prefetch_count),
    handoff_interval_(options.handoff_interval),
    counters_(std::move(counters)),
    stall_rule_(quarter_window()) {}

void channel_group::size_members() {
  const auto n = size();
  if (sinks_.size() == n)
    return;
  sinks_.resize(n);
  consume_.resize(n);
  drained_.resize(n, false);
}

void channel_group::start_member(std::size_t position, producer_sink sink, std::function<void()> consume) {
  size_members();
  if (position >= sinks_.size() || sinks_[position])
    return;
  sinks_[position] = std::move(sink);
  consume_[position] = std::move(consume);
  if (++registered_ != sinks_.size())
    return;
  auto ready = std::move(consume_);
  consume_.clear();
  for (auto& c : ready)
    c();
}

std::size_t channel_group::target_of(message& msg, std::size_t from) {
  if (!route_by_ || msg.is_failed())
    return from;
  try {
    return static_cast<std::size_t>(route_by_(msg) % sinks_.size());
  } catch (const std::exception& e) {
    msg.fail(std::string("route_by threw: ") + e.what());
  } catch (...) {
    msg.fail("route_by threw a non-standard exception");
  }
  return from;
}

void channel_group::read(message& msg) {
  if (!on_read_ || msg.is_failed())
    return;
  try {
    on_read_(msg);
  } catch (const std::exception& e) {
    msg.fail(std::string("on_read threw: ") + e.what());
  } catch (...) {
    msg.fail("on_read threw a non-standard exception");
  }
}

void channel_group::gather(message&& msg, std::size_t from) {
  if (batch_.empty())
    handoff_due_ = std::chrono::steady_clock::now() + handoff_interval_;
  read(msg);
  if (sinks_.size() > 1) {
    from_.push_back(static_cast<std::uint32_t>(from));
    to_.push_back(static_cast<std::uint32_t>(target_of(msg, from)));
  }
  batch_.push_back(std::move(msg));
  stall_rule_.delivered();
}

// A read burst often holds only a few deliveries; handing each burst on would cost a wake-up
// of every stage downstream per handful of messages. Bursts are gathered until a vector is
// worth a call, or until handoff_interval after the first of them, whichever comes first.
void channel_group::burst_ended(channel& ch, bool window_full) {
  if (batch_.empty())
    return;
  if (batch_.size() >= handoff_size() || window_full)
    hand_off();
  else
    hand_off_when_due(ch);
  // Nothing more comes on this channel until some of it is acknowledged: batchers need not wait
  // out their timeout for more (producer_sink::stalled; stall_rule.hpp says how often).
  if (stall_rule_.on_burst_end(window_full, batch_.empty())) {
    for (const auto& sink : sinks_)
      sink->stalled();
  }
}

void channel_group::hand_off_when_due(channel& ch) {
  if (batch_.empty())
    return;
  const auto now = std::chrono::steady_clock::now();
  // Less than a millisecond early counts as due: the loop's timers have millisecond steps.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(handoff_due_ - now);
  // Nor is it worth waiting when the next paced read comes no sooner: until then nothing more
  // arrives to gather, and the wait would cost a wake-up of its own.
  const auto next_read = ch.next_read_in();
  if (left.count() <= 0 || (next_read && left <= *next_read)) {
    hand_off();
  } else {
    is_deferred_ = true;
    ch.request_flush(left);
  }
}

void channel_group::hand_off() {
  if (batch_.empty() || registered_ != sinks_.size())
    return;
  if (is_deferred_) {
    ++counters_->deferred_handoffs;
    is_deferred_ = false;
  }
  if (sinks_.size() == 1) {
    ++counters_->handoffs;
    sinks_.front()->deliver(std::move(batch_));
  } else {
    // One vector per stage that gets anything, in read order.
    auto parts = causeway::detail::split_messages(batch_, to_, sinks_.size(), part_sizes_);
    for (std::size_t s = 0; s < parts.size(); ++s) {
      if (parts[s].empty())
        continue;
      ++counters_->handoffs;
      sinks_[s]->deliver(std::move(parts[s]));
    }
    from_.clear();
    to_.clear();
  }
  batch_ = {};
  batch_.reserve(handoff_size());
}

std::size_t channel_group::quarter_window() const noexcept {
  return std::clamp<std::size_t>(prefetch_count_ / 4, 1, 256);
}

std::size_t channel_group::handoff_size() const noexcept {
  return quarter_window() * std::max<std::size_t>(1, sinks_.size());
}

void channel_group::lost(std::size_t from) {
  if (sinks_.size() <= 1) {
    batch_.clear();
    is_deferred_ = false;
    return;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    if (from_[i] == from)
      continue;
    if (kept != i) {
      batch_[kept] = std::move(batch_[i]);
      from_[kept] = from_[i];
      to_[kept] = to_[i];
    }
    ++kept;
  }
  batch_.resize(kept);
  from_.resize(kept);
  to_.resize(kept);
  hand_off();
  is_deferred_ = false;
}

void channel_group::drained(std::size_t position) {
  size_members();
  if (position >= drained_.size() || drained_[position])
    return;
  drained_[position] = true;
  if (++drained_count_ != drained_.size())
    return;
  hand_off();  // what was still being gathered
  for (const auto& sink : sinks_)
    if (sink)
      sink->drained();
}

} // namespace causeway::amqp::detail
