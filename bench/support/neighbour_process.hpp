// neighbour_process.hpp — the noisy neighbour (bench/noisy_neighbour.cpp) a benchmark runs
// beside what it measures, so that both sides of a comparison share a core and the caches
// with it, as on a busy host (issue P2.4).
#pragma once

#include "support/child_process.hpp"

#include "causeway/expected.hpp"

#include <optional>
#include <string>

namespace bench {

/// What the neighbour did while it ran (its JSON line).
struct neighbour_summary {
  double fraction = 0;       ///< asked for
  double busy_fraction = 0;  ///< of its wall time spent in busy phases (preemptions included)
  double cpu_fraction = 0;   ///< the CPU it got, in fractions of one core
  double gib_streamed = 0;
  double buffer_mib = 0;
  double seconds = 0;
};

class neighbour_process {
public:
  /// Starts `program --fraction F`, its output appended to `log_path`. With F == 0 nothing
  /// runs and stop() returns an all-zero summary.
  static causeway::expected<neighbour_process> start(const std::string& program, double fraction,
                                                     const std::string& log_path);

  double fraction() const noexcept { return fraction_; }

  /// SIGTERM, then up to 10 s for it to end; its summary. An error when it had ended before
  /// (it must run during the whole measurement) or printed no summary.
  causeway::expected<neighbour_summary> stop();

  /// Ends it at once (SIGKILL), for the benchmark's error paths. The destructor does the same.
  void kill() { child_.reset(); }

private:
  neighbour_process(double fraction, std::optional<child_process> child, std::string log_path)
    : fraction_(fraction), child_(std::move(child)), log_path_(std::move(log_path)) {}
  double fraction_ = 0;
  std::optional<child_process> child_;
  std::string log_path_;
};

} // namespace bench
