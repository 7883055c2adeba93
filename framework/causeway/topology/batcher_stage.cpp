#include "causeway/topology/batcher_stage.hpp"

#include "causeway/detail/most_demand.hpp"
#include "causeway/topology/messages.hpp"
#include "causeway/topology/user_callback.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <chrono>
#include <string>

namespace causeway::topology {

batcher_stage::batcher_stage(caf::actor_config& cfg, std::shared_ptr<plan> p,
                             std::size_t batcher_index, std::vector<caf::actor> batch_processors,
                             std::shared_ptr<stage_counters> counters)
  : caf::event_based_actor(cfg),
    plan_(std::move(p)),
    options_(plan_->options.batchers.at(batcher_index)),
    batcher_index_(static_cast<std::uint32_t>(batcher_index)),
    batch_processors_(std::move(batch_processors)),
    counters_(std::move(counters)),
    accumulator_(options_.name, options_.batch_size, options_.batch_timeout),
    partitioned_(static_cast<bool>(options_.partition_by)),
    partition_by_step_("batchers." + options_.name + ".partition_by"),
    demand_(batch_processors_.size(), 0),
    ready_(partitioned_ ? batch_processors_.size() : 1) {}

caf::behavior batcher_stage::make_behavior() {
  return {
    [this](subscribe_atom, std::vector<caf::actor>& processors) { on_subscribe(processors); },
    [this](msgs_atom, std::uint32_t from, std::vector<message>& messages) {
      on_messages(from, messages);
    },
    [this](demand_atom, std::uint32_t batch_processor, std::uint64_t n) {
      on_demand(batch_processor, n);
    },
    [this](done_atom, std::uint32_t from) { on_upstream_done(from); },
    [this](stalled_atom, std::uint32_t from) { on_stalled(from); },
    [this](timer_atom, std::uint64_t generation) { on_timer(generation); },
  };
}

void batcher_stage::on_subscribe(std::vector<caf::actor>& processors) {
  processors_ = std::move(processors);
  processor_done_.assign(processors_.size(), false);
  stalled_from_.assign(processors_.size(), false);
  auto initial = static_cast<std::uint64_t>(effective_max_demand(options_));
  for (const auto& processor : processors_)
    send(processor, demand_atom::value, batcher_index_, initial);
  counters_->outstanding_demand.store(initial * processors_.size(), std::memory_order_relaxed);
}

void batcher_stage::on_messages(std::uint32_t from, std::vector<message>& messages) {
  counters_->received.fetch_add(messages.size(), std::memory_order_relaxed);
  counters_->outstanding_demand.fetch_sub(
    std::min<std::uint64_t>(messages.size(), counters_->outstanding_demand.load(std::memory_order_relaxed)),
    std::memory_order_relaxed);
  if (!arrivals_.empty() && arrivals_.back().first == from)
    arrivals_.back().second += messages.size();
  else
    arrivals_.emplace_back(from, messages.size());
  telemetry_span span{*plan_, *counters_, messages.size()};
  auto now = detail::clock::now();
  for (auto& msg : messages) {
    std::size_t partition = 0;
    if (partitioned_) {
      auto why = call_user(partition_by_step_, [&] {
        partition = static_cast<std::size_t>(options_.partition_by(msg) % batch_processors_.size());
      });
      if (why)
        msg.fail(std::move(*why));
    }
    if (auto full = accumulator_.add(std::move(msg), partition, now))
      make_ready(std::move(*full));
  }
  span.stop();
  arm_timer();
  dispatch();
}

void batcher_stage::make_ready(detail::batch b) {
  ready_messages_ += b.messages.size();
  ready_[partitioned_ ? b.info.partition : 0].push_back(std::move(b));
}

void batcher_stage::on_demand(std::uint32_t batch_processor, std::uint64_t n) {
  if (batch_processor >= demand_.size())
    return;
  demand_[batch_processor] += n;
  dispatch();
}

void batcher_stage::dispatch() {
  if (partitioned_) {
    for (std::size_t i = 0; i < ready_.size(); ++i)
      while (demand_[i] > 0 && !ready_[i].empty()) {
        auto b = std::move(ready_[i].front());
        ready_[i].pop_front();
        send_batch(i, std::move(b));
      }
  } else {
    auto& shared = ready_.front();
    while (!shared.empty()) {
      auto best = detail::most_demand(demand_);
      if (!best)
        break;
      auto b = std::move(shared.front());
      shared.pop_front();
      b.info.partition = *best;
      send_batch(*best, std::move(b));
    }
  }
  update_counters();
  finish_if_done();
}

void batcher_stage::send_batch(std::size_t batch_processor, detail::batch b) {
  auto size = b.messages.size();
  --demand_[batch_processor];
  ready_messages_ -= size;
  send(batch_processors_[batch_processor], batch_atom::value, std::move(b));
  return_demand(size);
}

void batcher_stage::return_demand(std::size_t messages) {
  std::vector<std::uint64_t> returned(processors_.size(), 0);
  while (messages > 0 && !arrivals_.empty()) {
    auto& [from, count] = arrivals_.front();
    auto take = std::min<std::uint64_t>(count, messages);
    returned[from] += take;
    count -= take;
    messages -= take;
    if (count == 0)
      arrivals_.pop_front();
  }
  for (std::size_t p = 0; p < returned.size(); ++p)
    if (returned[p] > 0 && !processor_done_[p]) {
      send(processors_[p], demand_atom::value, batcher_index_, returned[p]);
      counters_->outstanding_demand.fetch_add(returned[p], std::memory_order_relaxed);
    }
}

void batcher_stage::on_timer(std::uint64_t generation) {
  if (generation != timer_generation_)
    return;
  timer_armed_ = false;
  timer_ = 0;
  timer_due_.reset();
  for (auto& b : accumulator_.expire(detail::clock::now()))
    make_ready(std::move(b));
  arm_timer();
  dispatch();
}

void batcher_stage::arm_timer() {
  if (finishing_)
    return;
  const auto deadline = accumulator_.next_deadline();
  if (!plan_->timers) {
    if (timer_armed_ || !deadline)
      return;
    timer_armed_ = true;
    auto wait = std::max<detail::clock::duration>(*deadline - detail::clock::now(),
                                                  std::chrono::microseconds(100));
    delayed_send(this, wait, timer_atom::value, ++timer_generation_);
    return;
  }
  if (deadline == timer_due_)
    return;  // armed for the oldest batch already (or none open, none armed)
  cancel_timer();
  if (!deadline)
    return;
  timer_due_ = deadline;
  timer_ = plan_->timers->schedule(*deadline, [self = address(), generation = timer_generation_] {
    if (auto alive = caf::actor_cast<caf::actor>(self))
      caf::anon_send(alive, timer_atom::value, generation);
  });
}

void batcher_stage::cancel_timer() {
  ++timer_generation_;  // a message already sent for it is moot
  timer_due_.reset();
  if (plan_->timers)
    plan_->timers->cancel(std::exchange(timer_, 0));
}

void batcher_stage::on_upstream_done(std::uint32_t from) {
  if (from >= processor_done_.size() || processor_done_[from])
    return;
  processor_done_[from] = true;
  if (++processors_done_ < processors_.size())
    return;
  finishing_ = true;
  cancel_timer();  // a pending timer is moot now
  for (auto& b : accumulator_.flush())
    make_ready(std::move(b));
  dispatch();
}

// A producer stalls when its prefetch window is full: nothing more comes until messages in
// flight are acknowledged, and those in open batches would wait out batch_timeout. Every
// processor passes the stall on after what it sent before, so once all of them did, everything
// the producer delivered before it stalled is here: the open batches are all they can be.
void batcher_stage::on_stalled(std::uint32_t from) {
  if (from >= stalled_from_.size() || finishing_)
    return;
  stalled_from_[from] = true;
  for (std::size_t p = 0; p < processors_.size(); ++p)
    if (!stalled_from_[p] && !processor_done_[p])
      return;
  stalled_from_.assign(processors_.size(), false);
  if (accumulator_.size() == 0)
    return;
  for (auto& b : accumulator_.flush(batch_trigger::stalled))
    make_ready(std::move(b));
  arm_timer();
  dispatch();
}

void batcher_stage::finish_if_done() {
  if (!finishing_ || ready_messages_ > 0)
    return;
  for (const auto& bp : batch_processors_)
    send(bp, done_atom::value, batcher_index_);
  quit();
}

void batcher_stage::update_counters() {
  counters_->in_flight.store(accumulator_.size() + ready_messages_, std::memory_order_relaxed);
}

void batcher_stage::on_exit() {
  cancel_timer();
  processors_.clear();
  batch_processors_.clear();
  ready_.clear();
}

} // namespace causeway::topology
