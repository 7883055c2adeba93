// batch_processor_stage.hpp — runs handle_batch and acknowledges the batch's messages.
//
// It keeps one batch waiting ready while another is handled (demand: docs/architecture.md,
// Demand).
#pragma once

#include "causeway/detail/batch_accumulator.hpp"
#include "causeway/topology/plan.hpp"

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <memory>

namespace causeway::topology {

class batch_processor_stage : public caf::event_based_actor {
public:
  batch_processor_stage(caf::actor_config& cfg, std::shared_ptr<plan> p, std::size_t batcher_index,
                        std::size_t index, std::shared_ptr<stage_counters> counters);

  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  void on_subscribe(caf::actor& batcher);
  void on_batch(detail::batch& b);

  std::shared_ptr<plan> plan_;
  std::size_t index_;
  std::shared_ptr<stage_counters> counters_;
  causeway::context ctx_;
  caf::actor batcher_;
};

} // namespace causeway::topology
