#include "causeway/topology/producer_stage.hpp"

#include "causeway/atoms.hpp"
#include "causeway/detail/most_demand.hpp"
#include "causeway/detail/split_messages.hpp"
#include "causeway/topology/messages.hpp"
#include "causeway/topology/user_callback.hpp"

#include <algorithm>
#include <chrono>
#include <string>

namespace causeway::topology {

producer_stage::producer_stage(caf::actor_config& cfg, std::shared_ptr<plan> p,
                               std::size_t index, std::shared_ptr<producer> source,
                               std::vector<caf::actor> processors,
                               std::shared_ptr<stage_counters> counters)
  : caf::event_based_actor(cfg),
    plan_(std::move(p)),
    index_(index),
    source_(std::move(source)),
    processors_(std::move(processors)),
    counters_(std::move(counters)),
    demand_(processors_.size(), 0),
    partitioned_(static_cast<bool>(plan_->options.processors.partition_by)) {
  queues_.resize(partitioned_ ? processors_.size() : 1);
  stall_owed_.assign(processors_.size(), false);
}

caf::behavior producer_stage::make_behavior() {
  source_->start(producer_sink{caf::actor_cast<caf::actor>(this)});
  return {
    [this](demand_atom, std::uint32_t processor, std::uint64_t n) { on_demand(processor, n); },
    [this](deliver_atom, std::vector<message>& messages) { on_deliver(messages); },
    [this](drain_atom) { on_drain(); },
    [this](drained_atom) { on_drained(); },
    [this](stalled_atom) { on_stalled(); },
    [this](timer_atom, std::uint64_t generation) { on_rate_timer(generation); },
  };
}

void producer_stage::on_demand(std::uint32_t processor, std::uint64_t n) {
  if (processor >= demand_.size())
    return;
  demand_[processor] += n;
  dispatch();
}

void producer_stage::on_deliver(std::vector<message>& messages) {
  counters_->received.fetch_add(messages.size(), std::memory_order_relaxed);
  if (!partitioned_) {
    queues_.front().push(std::move(messages));
  } else {
    const auto& partition_by = plan_->options.processors.partition_by;
    partition_of_.resize(messages.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
      auto& msg = messages[i];
      std::size_t partition = 0;
      if (auto why = call_user("processors.partition_by", [&] {
            partition = static_cast<std::size_t>(partition_by(msg) % processors_.size());
          }))
        msg.fail(std::move(*why));
      partition_of_[i] = static_cast<std::uint32_t>(partition);
    }
    auto parts = detail::split_messages(messages, partition_of_, processors_.size(), partition_sizes_);
    for (std::size_t p = 0; p < parts.size(); ++p)
      queues_[p].push(std::move(parts[p]));
  }
  update_counters();
  dispatch();
}

std::size_t producer_stage::send_to(std::size_t processor, detail::chunk_queue& q, std::size_t n) {
  n = std::min<std::size_t>({n, q.size(), demand_[processor]});
  if (n == 0)
    return 0;
  if (plan_->limiter) {
    auto now = std::chrono::steady_clock::now();
    auto wanted = n;
    n = plan_->limiter->take(n, now);
    // Fewer permits than messages and demand: the rest goes when the window turns, even if
    // nothing else (a delivery, a processor's ask) wakes this stage before then.
    if (n < wanted && !rate_timer_armed_) {
      rate_timer_armed_ = true;
      auto wait = plan_->limiter->next_permit(now) - now;
      delayed_send(this, std::max<std::chrono::steady_clock::duration>(wait, std::chrono::milliseconds(1)),
                   timer_atom::value, ++rate_timer_generation_);
    }
    if (n == 0)
      return 0;
  }
  telemetry_span span{*plan_, *counters_, n};
  auto chunk = q.take(n);
  demand_[processor] -= n;
  send(processors_[processor], msgs_atom::value, static_cast<std::uint32_t>(index_), std::move(chunk));
  span.stop();
  return n;
}

void producer_stage::dispatch() {
  if (partitioned_) {
    for (std::size_t p = 0; p < processors_.size(); ++p)
      send_to(p, queues_[p], queues_[p].size());
  } else {
    auto& q = queues_.front();
    while (!q.empty()) {
      auto best = detail::most_demand(demand_);
      if (!best || send_to(*best, q, q.size()) == 0)
        break;
    }
  }
  pass_on_stalls();
  update_counters();
  finish_if_done();
}

void producer_stage::on_stalled() {
  stall_owed_.assign(processors_.size(), true);
  pass_on_stalls();
}

void producer_stage::pass_on_stalls() {
  for (std::size_t p = 0; p < processors_.size(); ++p) {
    if (!stall_owed_[p] || !queues_[partitioned_ ? p : 0].empty())
      continue;
    stall_owed_[p] = false;
    send(processors_[p], stalled_atom::value, static_cast<std::uint32_t>(index_));
  }
}

void producer_stage::on_drain() {
  if (draining_)
    return;
  draining_ = true;
  source_->prepare_for_draining();
  finish_if_done();
}

void producer_stage::on_drained() {
  source_drained_ = true;
  finish_if_done();
}

void producer_stage::on_rate_timer(std::uint64_t generation) {
  if (generation != rate_timer_generation_)
    return;
  rate_timer_armed_ = false;
  dispatch();
}

void producer_stage::finish_if_done() {
  if (!draining_ || !source_drained_)
    return;
  for (const auto& q : queues_)
    if (!q.empty())
      return;
  for (const auto& processor : processors_)
    send(processor, done_atom::value, static_cast<std::uint32_t>(index_));
  quit();
}

void producer_stage::update_counters() {
  std::uint64_t held = 0;
  for (const auto& q : queues_)
    held += q.size();
  counters_->in_flight.store(held, std::memory_order_relaxed);
}

void producer_stage::on_exit() {
  // The producer holds a sink (a handle to this stage): break that cycle, and the handles to
  // the processors, so that nothing of this generation outlives it.
  source_.reset();
  processors_.clear();
  queues_.clear();
}

} // namespace causeway::topology
