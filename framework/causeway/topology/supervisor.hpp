// supervisor.hpp — owns one topology generation at a time (internal; see pipeline.hpp).
//
// Start: spawn batch processors, batchers, processors, producers (downstream first), monitor
// all, then subscribe each stage to its upstream.
// Drain: producers stop taking, every stage passes on what it holds and then `done`
// downstream, and the supervisor replies once every stage has exited (the protocol, step by
// step: docs/architecture.md, Drain).
// A drain past the shutdown timeout, or a stage that dies, kills the generation and fails its
// in-flight messages back; whether and when a new generation starts is decided by
// supervisor_lifecycle (docs/architecture.md, The supervisor's lifecycle): this actor feeds it
// events and carries out its effects.
#pragma once

#include "causeway/pipeline.hpp"
#include "causeway/atoms.hpp"
#include "causeway/expected.hpp"
#include "causeway/topology/plan.hpp"
#include "causeway/topology/supervisor_lifecycle.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace causeway::topology {

class supervisor : public caf::event_based_actor {
public:
  supervisor(caf::actor_config& cfg, pipeline_spec spec);

  caf::behavior make_behavior() override;
  /// Releases the handler, the producer factory and the producers (and so their
  /// connections) as soon as the supervisor ends, not when the actor system does.
  void on_exit() override;

private:
  /// A drain, restart or stop request waiting for its answer.
  struct waiter {
    enum class request : std::uint8_t { drain, restart, stop } kind;
    caf::response_promise promise;
  };
  /// A stage of the running generation. Its handle lives here, not in the counters the stage
  /// shares: a stage holding a handle to itself would never be freed.
  struct tracked_stage {
    std::shared_ptr<stage_counters> counters;
    caf::actor actor;
  };
  /// The stages of one generation, by kind, as they are wired.
  struct generation_stages {
    std::vector<std::vector<caf::actor>> batch_processors;  ///< per batcher
    std::vector<caf::actor> batchers;
    std::vector<caf::actor> processors;
    std::vector<caf::actor> producer_stages;
  };

  // Events: each asks the lifecycle what to do and does it.
  void on_drain(caf::response_promise promise);
  void on_restart(pipeline_options& options, caf::response_promise promise);
  void on_stop(caf::response_promise promise);
  void on_rate(const rate_limit_options& limit);
  void on_drain_timeout(std::uint64_t generation);
  void on_down(const caf::down_msg& down);
  void apply(supervisor_effects effects);
  void execute(supervisor_effect& effect);

  // Effects.
  void start_generation();
  expected<void> create_producers();
  generation_stages spawn_stages();
  void wire(const generation_stages& stages);
  void drain_stages(std::uint64_t generation);
  void kill_stages();
  void fail_in_flight(const std::string& reason);
  void release_producers();
  void adopt_options(pipeline_options& options);
  void answer_waiters(const drain_report& report);

  template <class Stage, class... Args>
  caf::actor spawn_stage(stage_kind kind, const std::string& name, std::size_t index,
                         Args&&... args);
  /// Now on the actor system's clock (virtual under CAF's test coordinator), and what the
  /// running generation has acknowledged so far.
  progress_mark mark_now();
  std::vector<stage_info> snapshot() const;

  pipeline_spec spec_;
  std::shared_ptr<detail::shared_rate_limiter> limiter_;
  std::shared_ptr<detail::timer_service> timers_;
  supervisor_lifecycle lifecycle_;
  std::shared_ptr<plan> plan_;
  std::vector<std::shared_ptr<producer>> producers_;
  std::vector<tracked_stage> stages_;
  std::set<caf::actor_addr> live_;
  std::vector<waiter> waiters_;
};

} // namespace causeway::topology
