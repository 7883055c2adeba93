// report.hpp — what the daemon benchmark prints: the summary lines, per-thread CPU, and the
// JSON line (bench/run.sh contract) with the targets of the issue.
#pragma once

#include "daemon/run.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace daemon_bench {

/// Prints the summary of the rounds (best of each side) and of the large run to stdout and
/// returns the JSON report.
nlohmann::json report(const settings& s, const std::vector<bench::drain_result>& baselines,
                      const std::vector<daemon_result>& daemons, const daemon_result& large);

} // namespace daemon_bench
