// report.hpp — what the daemon benchmark prints: the summary lines, per-thread CPU, and the
// JSON line (bench/run.sh contract) with the targets of the issue.
#pragma once

#include "daemon/run.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace daemon_bench {

/// The daemon runs of one state mode: the rounds at --sensors, and the run at --sensors-large.
struct runs {
  std::vector<daemon_result> rounds;
  daemon_result large;
};

/// Prints the summary of the rounds (best of each side) and of the large runs to stdout and
/// returns the JSON report: the durable (default) daemon against the baseline, and durable
/// against memory mode.
nlohmann::json report(const settings& s, const std::vector<bench::drain_result>& baselines, const runs& durable,
                      const runs& memory);

} // namespace daemon_bench
