// batcher_stage.hpp — collects one named batcher's messages into batches.
//
// It grants each processor demand and gives it back as messages leave in batches (demand:
// docs/architecture.md, Demand). Batches are cut per (batch key, partition) by size or timeout,
// and go to the batch processor of their partition (with partition_by) or to whichever batch
// processor asked. When every processor is done it flushes what it holds, tells its batch
// processors it is done and exits. When every processor passed on a stall (a producer can send
// nothing more until messages in flight are acknowledged, producer_sink::stalled), it cuts
// every open batch: they cannot grow until their messages are done.
#pragma once

#include "causeway/detail/batch_accumulator.hpp"
#include "causeway/topology/plan.hpp"

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace causeway::topology {

class batcher_stage : public caf::event_based_actor {
public:
  batcher_stage(caf::actor_config& cfg, std::shared_ptr<plan> p, std::size_t batcher_index,
                std::vector<caf::actor> batch_processors, std::shared_ptr<stage_counters> counters);

  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  void on_subscribe(std::vector<caf::actor>& processors);
  void on_messages(std::uint32_t from, std::vector<message>& messages);
  void on_demand(std::uint32_t batch_processor, std::uint64_t n);
  void on_upstream_done(std::uint32_t from);
  void on_stalled(std::uint32_t from);
  void on_timer(std::uint64_t generation);
  void make_ready(detail::batch b);
  void dispatch();
  void send_batch(std::size_t batch_processor, detail::batch b);
  void return_demand(std::size_t messages);
  void arm_timer();
  void cancel_timer();
  void finish_if_done();
  void update_counters();

  std::shared_ptr<plan> plan_;
  const batcher_options& options_;
  std::uint32_t batcher_index_;
  std::vector<caf::actor> batch_processors_;
  std::shared_ptr<stage_counters> counters_;
  detail::batch_accumulator accumulator_;
  bool partitioned_;
  std::string partition_by_step_;  // "batchers.<name>.partition_by", for failure reasons
  std::vector<caf::actor> processors_;
  std::vector<bool> processor_done_;
  std::size_t processors_done_ = 0;
  std::vector<bool> stalled_from_;  // per processor: passed on a stall since the last cut
  // Which processor each held message came from, in arrival order (demand goes back FIFO).
  std::deque<std::pair<std::uint32_t, std::uint64_t>> arrivals_;
  std::vector<std::uint64_t> demand_;                 // batches, per batch processor
  std::vector<std::deque<detail::batch>> ready_;      // per batch processor, or one shared
  std::size_t ready_messages_ = 0;
  // The timer for the oldest open batch. On plan_->timers: the ticket and the deadline it is
  // armed for, moved (cancelled and armed again) when that batch leaves by size. On CAF's
  // clock (no plan_->timers): one in flight at a time, armed again when it fires.
  detail::timer_service::ticket timer_ = 0;
  std::optional<detail::clock::time_point> timer_due_;
  bool timer_armed_ = false;
  std::uint64_t timer_generation_ = 0;  // a timer's message of an older generation is moot
  bool finishing_ = false;
};

} // namespace causeway::topology
