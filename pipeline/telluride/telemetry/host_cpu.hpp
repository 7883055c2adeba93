// host_cpu.hpp — how busy each core of the daemon's host was between two looks, for the live
// dashboard's per-core CPU (the `cpu_percent` of GET /api/stream).
//
// Linux counts each core's time in /proc/stat (`cpuN user nice system idle iowait irq softirq
// steal ...`, in clock ticks since boot). A core's busy share between two readings is the growth
// of its non-idle ticks (all but idle and iowait) over the growth of all its ticks. The parsing
// and the arithmetic are pure; host_cpu_meter adds the file and the reading before.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

/// One core's ticks since boot.
struct core_ticks {
  std::uint64_t busy = 0;   ///< user + nice + system + irq + softirq + steal
  std::uint64_t total = 0;  ///< busy + idle + iowait
};

/// The `cpuN` lines of a /proc/stat text, in order (the `cpu` line of all cores together is
/// left out); nothing when a `cpuN` line has fewer than 8 numbers or one that is not a number.
std::optional<std::vector<core_ticks>> parse_proc_stat(std::string_view text);

/// Each core's busy share in percent (0..100) from `before` to `now`; a core whose ticks did not
/// grow (or went back) reads 0. Empty when the two have a different number of cores.
std::vector<double> core_busy_percent(const std::vector<core_ticks>& before, const std::vector<core_ticks>& now);

/// Reads /proc/stat (or `path`) and answers the busy share of each core since the previous call.
/// Not thread-safe: one owner calls it (the live feed's thread).
class host_cpu_meter {
public:
  explicit host_cpu_meter(std::string path = "/proc/stat");

  /// Percent per core since the previous call; empty on the first call and whenever the file
  /// cannot be read or parsed (the dashboard then shows no CPU).
  std::vector<double> sample();

private:
  std::string path_;
  std::string text_;  // the file's bytes, kept between samples
  std::optional<std::vector<core_ticks>> previous_;
};

} // namespace telluride
