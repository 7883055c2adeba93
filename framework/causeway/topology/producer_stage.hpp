// producer_stage.hpp — the actor that owns one producer and answers processors' demand.
//
// It buffers what its producer delivers and sends each processor at most what that processor
// asked for, in vectors; with processors.partition_by, every message goes to the processor of
// its partition. The shared rate limiter caps what leaves. On drain it asks the producer to
// stop taking, sends on everything it holds, tells the processors it is done and exits. When
// the producer is stalled (producer_sink::stalled) it tells each processor so, after the
// messages delivered before.
#pragma once

#include "causeway/detail/chunk_queue.hpp"
#include "causeway/producer.hpp"
#include "causeway/topology/plan.hpp"

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace causeway::topology {

class producer_stage : public caf::event_based_actor {
public:
  producer_stage(caf::actor_config& cfg, std::shared_ptr<plan> p, std::size_t index,
                 std::shared_ptr<producer> source, std::vector<caf::actor> processors,
                 std::shared_ptr<stage_counters> counters);

  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  void on_demand(std::uint32_t processor, std::uint64_t n);
  void on_deliver(std::vector<message>& messages);
  void on_drain();
  void on_drained();
  void on_stalled();
  void on_rate_timer(std::uint64_t generation);
  void dispatch();
  /// Sends up to `n` messages of queue `q` to `processor`; returns how many.
  std::size_t send_to(std::size_t processor, detail::chunk_queue& q, std::size_t n);
  /// Tells each processor owed a stall whose queue is empty now (everything delivered before
  /// the stall went to it) that its producer is stalled.
  void pass_on_stalls();
  void finish_if_done();
  void update_counters();

  std::shared_ptr<plan> plan_;
  std::size_t index_;
  std::shared_ptr<producer> source_;
  std::vector<caf::actor> processors_;
  std::shared_ptr<stage_counters> counters_;
  std::vector<std::uint64_t> demand_;       // per processor
  std::vector<detail::chunk_queue> queues_; // one, or one per processor when partitioned
  std::vector<bool> stall_owed_;            // per processor: a stall to pass on once its queue empties
  std::vector<std::uint32_t> partition_of_;    // scratch of on_deliver: each message's partition
  std::vector<std::size_t> partition_sizes_;   // scratch of on_deliver (split_messages)
  bool partitioned_;
  bool draining_ = false;
  bool source_drained_ = false;
  bool rate_timer_armed_ = false;
  std::uint64_t rate_timer_generation_ = 0;
};

} // namespace causeway::topology
