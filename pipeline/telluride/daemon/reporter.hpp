// reporter.hpp — publishes the daemon's outputs on their intervals.
//
// Every aggregate_interval_ms: the aggregates of the sensors that changed. Every
// metrics_interval_ms: one node metric per stage instance that did work, and the throughput
// totals. Every 100 ms: the shared-memory statistics. On (shutdown_atom) it publishes one last
// round, replies and exits (a ticking actor must be stopped explicitly).
#pragma once

#include "telluride/daemon/daemon_state.hpp"
#include "telluride/stats/shared_stats.hpp"

#include <caf/event_based_actor.hpp>

#include <chrono>
#include <memory>

namespace telluride {

class reporter : public caf::event_based_actor {
public:
  reporter(caf::actor_config& cfg, std::shared_ptr<daemon_state> state,
           std::unique_ptr<shared_stats_writer> stats);

  caf::behavior make_behavior() override;

private:
  void publish_aggregates();
  void publish_metrics();
  void write_stats();

  std::shared_ptr<daemon_state> state_;
  std::unique_ptr<shared_stats_writer> stats_;
  std::chrono::milliseconds aggregate_interval_;
  std::chrono::milliseconds metrics_interval_;
  double last_rate_ = 0;
};

/// The record `telluride stats` shows for this daemon.
shared_stats_record make_stats_record(const daemon_state& state, double messages_per_second);

} // namespace telluride
