// supervisor.hpp — owns one topology generation at a time (internal; see pipeline.hpp).
//
// Start: spawn batch processors, batchers, processors, producers (downstream first), monitor
// all, then subscribe each stage to its upstream.
// Drain (the protocol):
//   1. the supervisor sends drain to every producer stage and arms the shutdown timeout;
//   2. each producer stage calls prepare_for_draining, sends on everything its producer
//      delivered until the producer says drained, then sends done to every processor, exits;
//   3. a processor that got done from every producer and has sent all it holds sends done to
//      every batcher and exits;
//   4. a batcher that got done from every processor flushes its open batches, sends them as
//      its batch processors ask, then sends done to them and exits;
//   5. a batch processor exits on done; everything it got was handled and acknowledged;
//   6. when every stage exited normally the supervisor stops the producers and replies with
//      {messages acknowledged since 1., duration}.
// If the timeout fires first, or a stage dies abnormally, every stage is killed, each producer
// fails its unacknowledged messages back to their acknowledger, and (unless a drain, restart or
// stop was asked for) a new generation starts with the same options: at once after the first
// failure, then, while each generation fails within 10 s of its start, after 100 ms, 200 ms, ...
// up to 10 s. Which of these happens is decided by supervisor_lifecycle (its phases and
// transitions are listed there); this actor feeds it events and carries out its effects.
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
  supervisor_lifecycle lifecycle_;
  std::shared_ptr<plan> plan_;
  std::vector<std::shared_ptr<producer>> producers_;
  std::vector<tracked_stage> stages_;
  std::set<caf::actor_addr> live_;
  std::vector<waiter> waiters_;
};

} // namespace causeway::topology
