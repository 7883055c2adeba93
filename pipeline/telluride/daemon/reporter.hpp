// reporter.hpp — publishes the daemon's outputs on their intervals.
//
// Every aggregate_interval_ms: the aggregates of the sensors that changed. Every
// metrics_interval_ms: one node metric per stage instance that did work, and the throughput
// totals. Every 250 ms: the shared-memory statistics. On (shutdown_atom) it publishes one last
// round, replies and exits (a ticking actor must be stopped explicitly). The three keep one grid
// from the start and one delayed_send at a time, for the earliest: where they fall together they
// share a tick (4 a second instead of 6 at the defaults, each costing CAF's clock thread two
// wake-ups and a worker one).
//
// A round of aggregates goes out a chunk at a time (aggregate_chunk messages), at most
// chunks_in_flight of them unconfirmed: at 10,000 sensors the daemon no longer holds every
// changed sensor's message at once each interval (its peak memory), and a slow broker slows the
// round instead of growing the publisher's queue. The round holds the sensors changed when it
// began (sensor_tracker::aggregate_round); a tick that finds it unfinished starts no other.
//
// Aggregates, node metrics and throughput totals each carry the latest state of what they
// describe, so sending one later loses nothing. While the publisher holds more than
// max(min_output_backlog, 2 × sensors) messages unconfirmed (a broker alarm blocks publishing
// while readings keep coming, or the broker is slow), ticks send none of them: sensors and
// stages stay marked changed, and the first tick after the backlog falls to half that limit
// sends their latest state. The daemon's memory stays bounded by its sensors, however long the alarm lasts.
//
// It sees only what it publishes (reporter_parts): the sensor tracker's changed aggregates,
// the stages' metrics, the throughput totals, the outputs, and the status probe whose
// snapshot becomes the shared-memory record.
#pragma once

#include "telluride/daemon/daemon_probe.hpp"
#include "telluride/daemon/outputs.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/stats/shared_stats.hpp"
#include "telluride/telemetry/node_metrics.hpp"
#include "telluride/telemetry/throughput.hpp"

#include <caf/event_based_actor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace telluride {

/// What the reporter uses; every pointer but `stats` is set.
struct reporter_parts {
  std::chrono::milliseconds aggregate_interval{1000};
  std::chrono::milliseconds metrics_interval{1000};
  std::shared_ptr<sensor_tracker> tracker;     ///< changed aggregates
  std::shared_ptr<node_metrics> stages;        ///< changed stage metrics
  std::shared_ptr<throughput> totals;          ///< sampled every metrics interval (the only sampler)
  std::shared_ptr<outputs> out;
  std::shared_ptr<const daemon_probe> status;  ///< the shared-memory record's snapshot
  std::shared_ptr<shared_stats_writer> stats;  ///< null: shared memory unavailable; outlives a restart
};

class reporter : public caf::event_based_actor {
public:
  reporter(caf::actor_config& cfg, reporter_parts parts);

  caf::behavior make_behavior() override;

  /// Unconfirmed outputs tolerated before ticks hold, at least (see above).
  static constexpr std::uint64_t min_output_backlog = 1000;
  /// Aggregate messages built and published together (~250 bytes of JSON each).
  static constexpr std::size_t aggregate_chunk = 500;
  /// Chunks of a round published and not yet confirmed, at most: one goes out while the broker
  /// confirms the one before.
  static constexpr std::size_t chunks_in_flight = 2;

private:
  bool backed_up();
  void publish_aggregates(bool force = false);
  /// Publishes the round's next chunks, up to chunks_in_flight unconfirmed.
  void publish_chunks();
  void publish_metrics(bool force = false);
  void write_stats();
  /// Does what is due at `now` and asks for the next tick, when the earliest of the rest is.
  void tick(caf::actor_clock::time_point now);

  reporter_parts parts_;
  // When each is due next, on one grid from the start: the ones that fall together (every
  // fourth stats tick, at the default intervals) share a tick, one wake-up of CAF's clock.
  caf::actor_clock::time_point next_aggregates_;
  caf::actor_clock::time_point next_metrics_;
  caf::actor_clock::time_point next_stats_;
  double last_rate_ = 0;
  bool holding_ = false;  // the last tick found the publisher backed up
  sensor_tracker::aggregate_round round_;
  std::size_t chunks_unconfirmed_ = 0;
};

} // namespace telluride
