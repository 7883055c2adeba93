// pipeline.hpp — a running pipeline: a supervisor actor that owns one topology at a time.
//
// The supervisor starts producers → processors → batchers → batch processors, restarts the
// topology when a stage dies abnormally (failing its in-flight messages back first), drains it
// on request, and can start it again with new options. `pipeline` is a handle for threads that
// are not actors; actors talk to `supervisor()` with the atoms in causeway/atoms.hpp.
#pragma once

#include "causeway/expected.hpp"
#include "causeway/handler.hpp"
#include "causeway/options.hpp"
#include "causeway/pipeline_event.hpp"
#include "causeway/producer.hpp"
#include "causeway/telemetry.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace causeway {

/// One stage instance and its counters, read without asking the stage.
struct stage_info {
  stage_kind kind;
  std::string name;
  std::size_t index = 0;
  std::uint64_t received = 0;           ///< messages that reached the stage
  std::uint64_t in_flight = 0;          ///< messages the stage holds now
  std::uint64_t outstanding_demand = 0; ///< messages it asked for and has not received
  caf::actor actor;                     ///< the stage itself (for operators' tools and tests)
};

/// Everything a pipeline needs besides its options.
struct pipeline_spec {
  pipeline_options options;
  std::shared_ptr<causeway::handler> handler;
  producer_factory make_producer;
  std::shared_ptr<telemetry_sink> telemetry;        ///< optional
  std::function<void(const pipeline_event&)> on_event;  ///< optional; any thread
};

class pipeline {
public:
  /// Validates the options and starts the supervisor and its first topology.
  static expected<pipeline> start(caf::actor_system& system, pipeline_spec spec);

  pipeline(pipeline&&) noexcept = default;
  pipeline& operator=(pipeline&&) noexcept = default;
  ~pipeline();

  /// Drains the running topology (blocks). The pipeline can be restarted afterwards.
  drain_report drain();
  /// Drains if running, then starts a topology with `options`. Invalid options change
  /// nothing and come back as an error.
  expected<drain_report> restart(pipeline_options options);
  /// Changes the rate limit shared by all producers, effective at once.
  void set_rate_limit(rate_limit_options limit);
  /// The stages of the running topology with their counters (empty while drained).
  std::vector<stage_info> topology() const;
  /// Drains and ends the supervisor. Called by the destructor if needed.
  void stop();

  const caf::actor& supervisor() const noexcept { return supervisor_; }

private:
  explicit pipeline(caf::actor_system& system, caf::actor supervisor);
  caf::actor_system* system_ = nullptr;
  caf::actor supervisor_;
};

} // namespace causeway
