// reporter.hpp — publishes the daemon's outputs on their intervals.
//
// Every aggregate_interval_ms: the aggregates of the sensors that changed. Every
// metrics_interval_ms: one node metric per stage instance that did work, and the throughput
// totals. Every 100 ms: the shared-memory statistics. On (shutdown_atom) it publishes one last
// round, replies and exits (a ticking actor must be stopped explicitly).
//
// Aggregates, node metrics and throughput totals each carry the latest state of what they
// describe, so sending one later loses nothing. While the publisher holds more than
// max(min_output_backlog, 2 × sensors) messages unconfirmed (a broker alarm blocks publishing
// while readings keep coming, or the broker is slow), ticks send none of them: sensors and
// stages stay marked changed, and the first tick after the backlog falls to half that limit
// sends their latest state. The daemon's memory stays bounded by its sensors, however long the alarm lasts.
#pragma once

#include "telluride/daemon/daemon_state.hpp"
#include "telluride/stats/shared_stats.hpp"

#include <caf/event_based_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace telluride {

class reporter : public caf::event_based_actor {
public:
  reporter(caf::actor_config& cfg, std::shared_ptr<daemon_state> state,
           std::shared_ptr<shared_stats_writer> stats);

  caf::behavior make_behavior() override;

  /// Unconfirmed outputs tolerated before ticks hold, at least (see above).
  static constexpr std::uint64_t min_output_backlog = 1000;

private:
  bool backed_up();
  void publish_aggregates(bool force = false);
  void publish_metrics(bool force = false);
  void write_stats();

  std::shared_ptr<daemon_state> state_;
  std::shared_ptr<shared_stats_writer> stats_;  // outlives a restart of the reporter
  std::chrono::milliseconds aggregate_interval_;
  std::chrono::milliseconds metrics_interval_;
  double last_rate_ = 0;
  bool holding_ = false;  // the last tick found the publisher backed up
};

/// The record `telluride stats` shows for this daemon.
shared_stats_record make_stats_record(const daemon_state& state, double messages_per_second);

} // namespace telluride
