#include "causeway/amqp/queue_channel.hpp"

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/field_table.hpp"
#include "causeway/amqp/topology_declaration.hpp"

#include <amqp_framing.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace causeway::amqp::detail {

namespace {

// How long the lowest unsettled tag may block settled ones, once they fill half the prefetch
// window or all of it, before they are acked singly. Each single ack is a frame the broker
// handles on its own, and batch partitions on a busy host routinely finish 10-20 ms out of
// order: waiting for the lowest tag then costs less than hundreds of frames. A message that is
// really slow frees the window after this long (docs/architecture.md, Read pacing, step 5).
constexpr std::chrono::milliseconds scatter_after{50};

} // namespace

settlement failure_outcome(failure_policy policy, bool redelivered) noexcept {
  switch (policy) {
    case failure_policy::reject: return settlement::reject;
    case failure_policy::ack: return settlement::ack;
    case failure_policy::reject_and_requeue: return settlement::requeue;
    case failure_policy::reject_and_requeue_once:
      return redelivered ? settlement::reject : settlement::requeue;
  }
  return settlement::requeue;
}

// --- acker ---

queue_channel_acker::queue_channel_acker(std::weak_ptr<queue_channel> target, std::shared_ptr<amqp::mailbox> box,
                               failure_policy policy, std::shared_ptr<queue_channel_counters> counters,
                               std::shared_ptr<recycled_buffers> recycled)
  : target_(std::move(target)), box_(std::move(box)), policy_(policy), counters_(std::move(counters)),
    recycled_(std::move(recycled)) {}

void queue_channel_acker::ack(std::span<message> successful, std::span<message> failed) {
  std::vector<settle_item> items;
  items.reserve(successful.size() + failed.size());
  for (const auto& m : successful)
    items.push_back({m.ack.tag, m.ack.epoch, settlement::ack});
  for (const auto& m : failed)
    items.push_back({m.ack.tag, m.ack.epoch,
                     failure_outcome(policy_, m.metadata.get("redelivered") == "true")});
  post(std::move(items));
  if (!successful.empty())
    recycle(successful);
}

void queue_channel_acker::ack_refs(std::span<const delivery_ref> successful) {
  std::vector<settle_item> items;
  items.reserve(successful.size());
  for (const auto& ref : successful)
    items.push_back({ref.tag, ref.epoch, settlement::ack});
  post(std::move(items));
}

void queue_channel_acker::recycle(std::span<message> done) {
  recycled_->give(done);
}

void queue_channel_acker::post(std::vector<settle_item> items) {
  auto count = items.size();
  auto target = target_.lock();
  if (!target) {
    counters_->dropped_acks += count;  // the channel is gone (producer stopped): requeued
    return;
  }
  auto settle = [target, items = std::move(items)] { target->settle(items); };
  // A window with room keeps the broker sending while acknowledgements wait for the next paced
  // read (at most the read interval), which saves the connection thread a wake-up per post.
  bool posted = target->is_window_tight() ? box_->post(std::move(settle)) : box_->post_unhurried(std::move(settle));
  if (!posted)
    counters_->dropped_acks += count;  // the connection shut down: the broker requeued them
}

// --- consumer ---

queue_channel::queue_channel(const queue_source_options& options, std::string log_name,
                             std::shared_ptr<channel_group> group, std::size_t position,
                             std::shared_ptr<queue_channel_counters> counters)
  : queue_(options.queue),
    log_name_(std::move(log_name)),
    options_(options),
    flush_threshold_(options.ack_batch != 0 ? options.ack_batch
                                            : std::max<std::size_t>(1, options.prefetch_count / 4)),
    group_(std::move(group)),
    position_(position),
    counters_(std::move(counters)),
    recycled_(std::make_shared<recycled_buffers>(options.prefetch_count)),
    gen_(new_generation()) {}

void queue_channel::init(std::shared_ptr<amqp::mailbox> box) {
  acker_ = std::make_shared<queue_channel_acker>(weak_from_this(), std::move(box), options_.on_failure,
                                            counters_, recycled_);
  message_acker_ = options_.acknowledge_through ? options_.acknowledge_through(acker_) : nullptr;
  if (!message_acker_)
    message_acker_ = acker_;
}

void queue_channel::attach_to(connection& conn) {
  if (!life_.attach())
    return;
  channel_id_ = conn.attach(shared_from_this());
  if (channel_id_ == 0)
    life_.attach_refused();
}

failure queue_channel::on_open(channel& ch) {
  life_.opened(ch, ch.epoch());
  gen_ = new_generation();
  note_window();

  amqp_basic_qos(ch.state(), ch.id(), 0, options_.prefetch_count, 0);
  if (failure f = describe(amqp_get_rpc_reply(ch.state()),
                           "set prefetch_count " + std::to_string(options_.prefetch_count)))
    return f;
  if (options_.declare) {
    const auto& d = *options_.declare;
    if (failure f = declare_queue(ch, queue_spec{queue_, d.durable, d.exclusive, d.auto_delete, d.args}))
      return f;
  }
  for (const auto& b : options_.bindings)
    if (failure f = declare_binding(ch, binding_spec{queue_, b.exchange, b.routing_key, b.args}))
      return f;
  switch (life_.set_up()) {
    case queue_channel_step::consume: break;
    case queue_channel_step::finish_drain: finish_drain(); return {};
    default: return {};
  }
  if (options_.before_consume)
    if (failure f = options_.before_consume(ch))
      return f;
  field_table args(options_.consume_arguments);
  auto* ok = amqp_basic_consume(ch.state(), ch.id(), view(queue_),
                                options_.consumer_tag.empty() ? amqp_empty_bytes : view(options_.consumer_tag),
                                0, 0, 0, args.get());
  if (failure f = describe(amqp_get_rpc_reply(ch.state()), "consume from queue \"" + queue_ + "\""))
    return f;
  life_.consuming_as(ok ? std::string(text(ok->consumer_tag)) : options_.consumer_tag);
  if (ch.epoch() > 1)
    spdlog::info("{}: consuming again from queue \"{}\" (channel {}, epoch {})", log_name_, queue_,
                 ch.id(), ch.epoch());
  return {};
}

void queue_channel::on_frame(channel& ch, const amqp_frame_t& frame) {
  if (frame.frame_type == AMQP_FRAME_METHOD) {
    const auto& method = frame.payload.method;
    if (method.id != AMQP_BASIC_DELIVER_METHOD) {
      on_method(ch, method);
      return;
    }
    // Tags count 1, 2, 3... per channel; a gap would make the ack window remember every tag
    // skipped, and a tag out of sequence cannot be settled. Neither comes from a sane broker.
    if (const auto* deliver = static_cast<const amqp_basic_deliver_t*>(method.decoded)) {
      if (deliver->delivery_tag != gen_.last_tag + 1) {
        ++counters_->malformed;
        ch.fail("delivery tag " + std::to_string(deliver->delivery_tag) +
                " out of sequence (expected " + std::to_string(gen_.last_tag + 1) + ")");
        return;
      }
      gen_.last_tag = deliver->delivery_tag;
    }
  }
  take(gen_.assembler.feed(frame));
}

void queue_channel::on_method(channel& ch, const amqp_method_t& method) {
  queue_channel_step step = queue_channel_step::nothing;
  switch (method.id) {
    case AMQP_BASIC_CANCEL_OK_METHOD: step = life_.cancelled(false); break;
    case AMQP_BASIC_CANCEL_METHOD: step = life_.cancelled(true); break;  // queue deleted...
    default: return;
  }
  if (step == queue_channel_step::finish_drain)
    finish_drain();
  else if (step == queue_channel_step::fail_channel)
    ch.fail("the broker cancelled the consumer of queue \"" + queue_ + "\"");
}

void queue_channel::take(feed_result result) {
  switch (result.outcome) {
    case frame_outcome::not_content:
    case frame_outcome::taken:
      return;
    case frame_outcome::ignored:
      note_malformed(result.problem);
      return;
    case frame_outcome::broken:
      note_malformed(result.delivery->msg.failure_reason());
      break;
    case frame_outcome::oversized:
      ++counters_->oversized;
      gen_.oversized.insert(result.delivery->delivery_tag);
      // The handler sees it failed and reports it (the daemon logs and dead-letters it).
      spdlog::debug("{}: delivery {} failed: {}", log_name_, result.delivery->delivery_tag,
                    result.delivery->msg.failure_reason());
      break;
    case frame_outcome::completed:
      break;
  }
  accept(*result.delivery);
}

void queue_channel::accept(assembled_delivery& d) {
  // Frames come only while the channel is usable, so it is live.
  d.msg.ack = ack_ref{message_acker_, d.delivery_tag, life_.live()->epoch};
  gen_.window.deliver(d.delivery_tag);
  // Once, as the window fills (a channel's qos is never below its prefetch_count).
  if (window_held() == options_.prefetch_count) {
    gen_.full_since = std::chrono::steady_clock::now();
    ++counters_->window_full;
    if (options_.on_window_full)
      options_.on_window_full();
  }
  if (d.redelivered)
    ++counters_->redelivered;
  if (d.recycled)
    ++counters_->recycled;
  ++counters_->delivered;
  group_->gather(std::move(d.msg), position_);
}

void queue_channel::note_malformed(const std::string& problem) {
  ++counters_->malformed;
  if (gen_.logged_malformed) {
    spdlog::debug("{}: frames out of order: {}", log_name_, problem);
    return;
  }
  gen_.logged_malformed = true;
  spdlog::warn("{}: frames out of order from the broker: {} (further ones are counted, not logged)",
               log_name_, problem);
}

void queue_channel::on_burst_end(channel& ch) {
  note_window();
  // Acknowledgements posted unhurried while the window had room run now instead of at the
  // next paced read: until some are sent, the broker holds back what would fill it.
  if (is_window_tight())
    ch.owner().mailbox()->hurry();
  group_->burst_ended(ch, is_window_full());
  // A hand-off deferred by an earlier burst (e.g. the first part of a paced read whose rest
  // came on the loop's next turn) asked for a flush; once everything went on and no
  // acknowledgement waits, that flush would wake the loop for nothing.
  if (group_->is_empty() && gen_.window.settled() == 0)
    ch.cancel_flush();
}

void queue_channel::settle(const std::vector<settle_item>& items) {
  record(items, true);
  const auto* live = life_.live();
  if (live == nullptr || gen_.window.settled() == 0)
    return;
  if (gen_.window.settled() >= flush_threshold_)
    flush(false);
  else
    live->ch->request_flush();
}

void queue_channel::record(const std::vector<settle_item>& items, bool handled) {
  std::uint64_t dropped = 0, acked = 0, rejected = 0, requeued = 0;
  const auto* live = life_.live();
  for (const auto& item : items) {
    if (live == nullptr || item.epoch != live->epoch) {
      ++dropped;
      continue;
    }
    auto outcome = item.outcome;
    // Requeued, an oversized delivery would fail the same way forever.
    if (handled && outcome == settlement::requeue && gen_.oversized.count(item.tag) != 0)
      outcome = settlement::reject;
    if (!gen_.window.settle(item.tag, outcome))
      continue;  // settled twice: the first one counts
    if (!gen_.oversized.empty())
      gen_.oversized.erase(item.tag);
    switch (outcome) {
      case settlement::ack: ++acked; break;
      case settlement::reject: ++rejected; break;
      default: ++requeued; break;
    }
  }
  if (dropped)
    counters_->dropped_acks += dropped;
  counters_->acked += acked;
  counters_->rejected += rejected;
  counters_->requeued += requeued;
}

void queue_channel::on_flush(channel& ch) {
  group_->hand_off_when_due(ch);
  flush(false);
}

void queue_channel::on_closing(channel&) { flush(true); }

void queue_channel::flush(bool everything) {
  const auto* live = life_.live();
  if (live == nullptr || !live->ch->is_usable())
    return;
  channel& ch = *live->ch;
  const bool was_full = is_window_full();
  auto runs = gen_.window.take_contiguous();
  auto now = std::chrono::steady_clock::now();
  if (!runs.empty())
    gen_.last_progress = now;
  for (const auto& run : runs)
    if (!send_run(ch, run.first, run.last, run.kind))
      return;
  // Finished messages stuck behind a slow one hold prefetch slots. Once half the window is
  // held that way, or the window is full, and the lowest tag has not moved for a while (a
  // slow message, not just messages finishing out of order), settle them singly so the
  // broker keeps delivering.
  const bool is_full = is_window_full() && gen_.window.settled() > 0;
  const bool stuck = is_full || gen_.window.settled() * 2 >= options_.prefetch_count;
  bool freed = !runs.empty();
  if (everything || (stuck && now - gen_.last_progress >= scatter_after)) {
    auto scattered = gen_.window.take_scattered();
    freed = freed || !scattered.empty();
    for (const auto& [tag, kind] : scattered)
      if (!send_run(ch, tag, tag, kind))
        return;
  } else if (stuck) {
    ch.request_flush(std::chrono::ceil<std::chrono::milliseconds>(scatter_after - (now - gen_.last_progress)));
  }
  if (freed)
    note_window();
  // The broker held deliveries back for want of a free slot: they come now, in a burst.
  if (was_full && freed) {
    counters_->window_full_ns += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - gen_.full_since).count());
    ch.read_promptly();
  }
}

void queue_channel::note_window() noexcept {
  is_window_tight_.store(window_held() * 4 > static_cast<std::size_t>(options_.prefetch_count) * 3,
                         std::memory_order_relaxed);
}

std::size_t queue_channel::window_held() const noexcept {
  return gen_.window.pending() + gen_.window.settled();
}

bool queue_channel::is_window_full() const noexcept { return window_held() >= options_.prefetch_count; }

bool queue_channel::send_run(channel& ch, std::uint64_t first, std::uint64_t last, settlement kind) {
  auto* state = ch.state();
  auto id = ch.id();
  bool multiple = first != last;
  int rc = AMQP_STATUS_OK;
  switch (kind) {
    case settlement::ack:
      rc = amqp_basic_ack(state, id, last, multiple ? 1 : 0);
      break;
    case settlement::reject:
    case settlement::requeue: {
      amqp_boolean_t requeue = kind == settlement::requeue ? 1 : 0;
      rc = multiple ? amqp_basic_nack(state, id, last, 1, requeue)
                    : amqp_basic_reject(state, id, last, requeue);
      break;
    }
    default:
      return true;
  }
  ++counters_->ack_frames;
  return ch.check_status(rc, "acknowledge delivery " + std::to_string(last));
}

void queue_channel::start_draining() {
  const auto* live = life_.live();
  auto step = life_.start_draining(live != nullptr && live->ch->is_usable());
  if (step == queue_channel_step::send_cancel) {
    channel& ch = *live->ch;
    amqp_basic_cancel_t cancel{};
    cancel.consumer_tag = view(*life_.consumer_tag());
    cancel.nowait = 0;
    int rc = amqp_send_method(ch.state(), ch.id(), AMQP_BASIC_CANCEL_METHOD, &cancel);
    if (ch.check_status(rc, "cancel consumer of queue \"" + queue_ + "\""))
      return;  // finish_drain on cancel-ok
    step = life_.cancel_failed();
  }
  if (step == queue_channel_step::finish_drain)
    finish_drain();
}

void queue_channel::finish_drain() { group_->drained(position_); }

void queue_channel::fail_pending(const std::string& reason) {
  const auto* live = life_.live();
  if (live == nullptr)
    return;
  auto tags = gen_.window.pending_tags();
  if (tags.empty())
    return;
  spdlog::warn("{}: failing {} in-flight message(s) back to the broker: {}", log_name_, tags.size(),
               reason);
  // These messages were never handled (their stage died or the drain timed out): whatever
  // on_failure says about messages the handler failed, they go back to the queue.
  std::vector<settle_item> items;
  items.reserve(tags.size());
  for (auto tag : tags)
    items.push_back({tag, live->epoch, settlement::requeue});
  record(items, false);
  flush(true);
}

void queue_channel::close(connection& conn) {
  if (!life_.is_attached())
    return;
  conn.detach(channel_id_);  // on_closing flushes on the channel still live
  if (life_.closed() == queue_channel_step::finish_drain)
    finish_drain();
}

void queue_channel::on_lost(const failure&) {
  // Settled but unsent tags die with the channel: the broker redelivers those messages.
  counters_->dropped_acks += gen_.window.settled();
  gen_ = new_generation();
  note_window();
  group_->lost(position_);  // what it read and was not handed on: redelivered too
  if (life_.lost() == queue_channel_step::finish_drain)
    finish_drain();
}

} // namespace causeway::amqp::detail
