// paced.hpp — the daemon at a steady rate instead of a drain (issue P2.4): one daemon, idle
// first (no readings: how much of a core does it use?), then fed by `telluride sensors` at
// each paced rate in turn; CPU per reading at each rate, to hold against the drain's.
#pragma once

#include "daemon/run.hpp"

#include <causeway/amqp/connection.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace daemon_bench {

/// One paced run: `telluride sensors --rate target_rate --duration paced_seconds` published
/// `readings` (fewer than rate × seconds when the broker could not take the rate).
struct paced_result {
  double target_rate = 0;
  std::size_t readings = 0;
  double achieved_rate = 0;  ///< readings / (the publisher's spawn → every reading successful)
  double cpu_s = 0;          ///< the daemon's, over that span
  /// The daemon's CPU seconds per thread over that span, labelled as the drains' threads
  /// (labelled_threads), in thread creation order.
  std::vector<std::pair<std::string, double>> threads;
  /// Times each thread blocked (voluntary context switches) over that span, same labels: a
  /// wake-up each, and at a paced rate the wake-ups, more than the readings, cost the CPU.
  std::vector<std::pair<std::string, std::uint64_t>> wakeups;
  double cpu_s_per_million() const { return readings > 0 ? cpu_s * 1e6 / static_cast<double>(readings) : 0; }
};

struct paced_runs {
  double idle_seconds = 0;
  double idle_core_percent = 0;  ///< the daemon's CPU over idle_seconds with no readings, % of one core
  std::vector<paced_result> runs;
  double peak_rss_mib = 0;
};

/// One durable daemon at `s.sensors` sensors: idle for `s.idle_seconds`, then each of
/// `s.paced_rates` for `s.paced_seconds`; see bench_daemon.cpp. `round` (1, 2, ...) names its
/// queues and files apart from other rounds'.
paced_runs run_paced(const settings& s, causeway::amqp::connection& admin, int round);

} // namespace daemon_bench
