// processor_stage.hpp — runs handle_message on the messages it asks its producers for.
//
// It asks every producer for messages and sends handled ones to the batcher they name, within
// the demand each batcher granted (docs/architecture.md, Demand); failed ones go through
// handle_failed to their acknowledger; without batchers successful ones are acknowledged here.
// A producer's stall goes on to every batcher after what this stage sent it before.
#pragma once

#include "causeway/topology/plan.hpp"

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace causeway::topology {

class processor_stage : public caf::event_based_actor {
public:
  processor_stage(caf::actor_config& cfg, std::shared_ptr<plan> p, std::size_t index,
                  std::vector<caf::actor> batchers, std::shared_ptr<stage_counters> counters);

  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  void on_subscribe(std::vector<caf::actor>& producers);
  void on_messages(std::uint32_t from, std::vector<message>& messages);
  void on_demand(std::uint32_t batcher, std::uint64_t n);
  void on_upstream_done(std::uint32_t from);
  void on_stalled(std::uint32_t from);
  /// Runs the user's callbacks; failures become failed messages, never exceptions.
  void handle(std::vector<message>& messages);
  void route(std::vector<message>& messages);
  /// The batcher a message named, with the default rule of message.hpp.
  std::optional<std::size_t> batcher_index(const message& msg) const;
  void flush_outbound();
  /// Tells each batcher owed a stall whose outbound vector is empty now that a producer is
  /// stalled: everything that producer delivered before went to that batcher.
  void pass_on_stalls();
  void ask_upstream();
  void finish_if_done();
  void update_counters();

  std::shared_ptr<plan> plan_;
  std::size_t index_;
  std::vector<caf::actor> batchers_;
  std::shared_ptr<stage_counters> counters_;
  causeway::context ctx_;
  std::vector<caf::actor> producers_;
  std::vector<std::uint64_t> outstanding_;  // per producer: asked, not yet received
  std::vector<bool> producer_done_;
  std::size_t producers_done_ = 0;
  std::vector<std::uint64_t> batcher_demand_;              // per batcher
  std::vector<std::vector<message>> outbound_;     // per batcher, waiting for batcher demand
  std::size_t pending_ = 0;                        // messages in outbound_
  std::vector<bool> stall_owed_;                   // per batcher: a stall to pass on once outbound_ empties
  std::vector<std::uint32_t> destination_;         // scratch of route(): each message's batcher
  std::vector<std::size_t> incoming_per_batcher_;  // scratch of route()
};

} // namespace causeway::topology
