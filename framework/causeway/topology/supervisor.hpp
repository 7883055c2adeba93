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
// fails its unacknowledged messages back to their acknowledger, and (unless draining) a new
// generation starts with the same options: at once after the first failure, then, while each
// generation fails within 10 s of its start, after 100 ms, 200 ms, ... up to 10 s.
#pragma once

#include "causeway/pipeline.hpp"
#include "causeway/atoms.hpp"
#include "causeway/restart_backoff.hpp"
#include "causeway/topology/plan.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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
  enum class phase { idle, running, draining, tearing_down };

  void start_topology();
  void on_drain(caf::response_promise promise);
  void on_restart(pipeline_options& options, caf::response_promise promise);
  void on_stop(caf::response_promise promise);
  void on_down(const caf::down_msg& down);
  void on_drain_timeout(std::uint64_t generation);
  void tear_down(std::string reason);
  void finish_teardown();
  void finish_drain(bool timed_out);
  std::chrono::milliseconds next_restart_delay();
  void schedule_restart(std::chrono::milliseconds delay);
  std::vector<stage_info> snapshot() const;
  void emit(pipeline_event::kind what, std::string reason = {});

  pipeline_spec spec_;
  std::shared_ptr<detail::shared_rate_limiter> limiter_;
  phase phase_ = phase::idle;
  std::uint64_t generation_ = 0;
  std::shared_ptr<plan> plan_;
  std::vector<std::shared_ptr<producer>> producers_;
  /// A stage of the running generation. Its handle lives here, not in the counters the stage
  /// shares: a stage holding a handle to itself would never be freed.
  struct tracked_stage {
    std::shared_ptr<stage_counters> counters;
    caf::actor actor;
  };
  std::vector<tracked_stage> stages_;
  std::set<caf::actor_addr> live_;
  std::string teardown_reason_;
  bool teardown_while_draining_ = false;
  // Drain bookkeeping.
  std::chrono::steady_clock::time_point drain_started_{};
  std::uint64_t acknowledged_at_drain_ = 0;
  std::vector<caf::response_promise> drain_waiters_;
  std::optional<pipeline_options> restart_with_;
  std::vector<caf::response_promise> restart_waiters_;
  bool stop_after_drain_ = false;
  std::vector<caf::response_promise> stop_waiters_;
  drain_report last_drain_;
  // A generation that crashes (or cannot create its producers) is replaced at once the first
  // time, then with growing delays while generations keep failing soon after their start.
  restart_backoff backoff_;
  bool restart_pending_ = false;  // idle, waiting for the restart timer
  bool has_run_ = false;          // a generation ran: the next one is a restart
};

} // namespace causeway::topology
