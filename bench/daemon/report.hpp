// report.hpp — what the daemon benchmark prints: the summary lines, per-thread CPU, and the
// JSON line (bench/run.sh contract) with the targets of the issues.
#pragma once

#include "daemon/paced.hpp"
#include "daemon/run.hpp"
#include "support/neighbour_process.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace daemon_bench {

/// The daemon runs of one state mode: the rounds at --sensors, and at --sensors-large.
struct runs {
  std::vector<daemon_result> rounds;
  std::vector<daemon_result> large;
};

/// The rounds run beside the noisy neighbour (--noise F): the baseline and the durable daemon.
struct noisy_runs {
  std::vector<bench::drain_result> baselines;
  std::vector<daemon_result> durable;
  std::vector<bench::neighbour_summary> neighbours;  ///< one per round
};

/// Everything one benchmark run measured.
struct results {
  std::vector<bench::drain_result> baselines;  ///< quiet
  runs durable;
  runs memory;
  noisy_runs noisy;                 ///< empty with --noise 0
  /// One per round, each at the end of its quiet drains; none without --paced-rates. The least
  /// CPU per reading of each rate counts, as the best round of a drain does.
  std::vector<paced_runs> paced;
  double pressure_before = -1;      ///< /proc/pressure/cpu some avg10 at the start, and at the end
  double pressure_after = -1;
};

/// Prints the summary of the rounds (best of each side), of the large runs, of the noisy
/// rounds and of the paced runs to stdout and returns the JSON report: the durable (default)
/// daemon against the baseline, quiet and noisy, and durable against memory mode.
nlohmann::json report(const settings& s, const results& r);

/// The daemon's threads labelled (main, amqp-consumer, caf_worker#0...), with their CPU
/// seconds, in the order of r.threads (creation order).
std::vector<std::pair<std::string, double>> labelled_threads(const daemon_result& r);
/// The same for the threads of process `pid` (their cpu_s as given).
std::vector<std::pair<std::string, double>> labelled_threads(const std::vector<bench::thread_cpu>& threads, long pid);
/// The labels alone, in the order of `threads`.
std::vector<std::string> thread_labels(const std::vector<bench::thread_cpu>& threads, long pid);

// For busy_report.cpp:
const daemon_result& best_of(const std::vector<daemon_result>& rounds);
const bench::drain_result& best_of(const std::vector<bench::drain_result>& baselines);

/// The figures of issue P2.4 (a busy host): quiet against noisy, paced against the drain, the
/// idle daemon, the host's CPU pressure; printed, and added to `out`.
void report_busy_host(const settings& s, const results& r, nlohmann::json& out);

} // namespace daemon_bench
