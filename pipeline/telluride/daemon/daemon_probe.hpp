// daemon_probe.hpp — reads a daemon_snapshot from the daemon's live parts.
//
// The one place that knows where each figure of the snapshot lives (totals, sensor tracker,
// readings source and connection, publisher, control counters, part health, current config).
// The reporter (stats file), the HTTP API (/readyz, /metrics, /api/topology) each ask it; none
// of them reaches into the others' parts. Any thread.
#pragma once

#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/control_counters.hpp"
#include "telluride/daemon/daemon_snapshot.hpp"
#include "telluride/daemon/durable_state.hpp"
#include "telluride/daemon/outputs.hpp"
#include "telluride/daemon/part_health.hpp"
#include "telluride/daemon/readings_intake.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/telemetry/node_metrics.hpp"
#include "telluride/telemetry/throughput.hpp"

#include <cstdint>
#include <memory>

namespace telluride {

/// How much a snapshot holds: the per-stage metrics only when a view lists them (/metrics);
/// `totals`: only the times and the totals (what rates_between reads; the unviewed live feed).
enum class snapshot_detail : std::uint8_t { totals, counters, with_stages };

/// Adds `from`'s per-life counters (see earlier_lives) to `to`'s; the states (connected,
/// blocked, outstanding) stay `to`'s.
void add_life_counters(daemon_snapshot& to, const daemon_snapshot& from) noexcept;

/// What the connections and sources of the daemon's earlier lives in this process counted (the
/// parts restart in place after the readings lock was lost: readings_lock.hpp). The probe adds
/// them, so the counters stay per process. Written only between lives.
struct earlier_lives {
  /// The counters only: connection connects, losses, channel losses, blocked; every readings
  /// source counter; published, confirmed, nacked, republished, blocked; the control counters.
  daemon_snapshot counted;

  /// Adds what `ended` (a snapshot taken as a life ended) counted in that life.
  void add(const daemon_snapshot& ended) { add_life_counters(counted, ended); }
};

/// What the probe reads; every pointer is set but `durable` and `earlier`.
struct probe_sources {
  std::int64_t started_ms = 0;
  std::shared_ptr<const config_store> config;
  std::shared_ptr<const control_counters> counters;
  std::shared_ptr<const readings_intake> readings;
  std::shared_ptr<const part_health> parts;
  std::shared_ptr<const throughput> totals;
  std::shared_ptr<const sensor_tracker> tracker;
  std::shared_ptr<const node_metrics> stages;
  std::shared_ptr<outputs> out;  // publisher stats (outputs has no const view of its publisher)
  std::shared_ptr<const durable_state> durable;  ///< null in memory mode
  std::shared_ptr<const earlier_lives> earlier;  ///< null: this is the process's first life
};

class daemon_probe {
public:
  explicit daemon_probe(probe_sources sources) : sources_(std::move(sources)) {}

  /// Only what readiness depends on (cheap: /readyz answers from it on the HTTP loop).
  readiness check_readiness() const;
  /// Everything, at `now_ms` (epoch ms).
  daemon_snapshot take(std::int64_t now_ms, snapshot_detail detail = snapshot_detail::counters) const;

private:
  probe_sources sources_;
};

} // namespace telluride
