// perf_profile.hpp — where the daemon's time goes, from a `perf record -g` of one drain:
// the top symbols, and the shares of the groups issue P2.4 names (Telluride's own code,
// libc's malloc/free, the rest of libc, the kernel, CAF, rabbitmq-c, libuv, ...) and of
// the threads. The parsing is pure (text in, figures out); profile() runs `perf report`.
#pragma once

#include "causeway/expected.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace daemon_bench {

/// One line of `perf report --stdio --no-children --sort dso,sym`: a symbol's share of the
/// samples (self time).
struct profile_line {
  double percent = 0;
  std::string dso;
  std::string symbol;
};

/// The lines of such a report, in its order (largest first); headers and blanks skipped.
std::vector<profile_line> parse_symbol_report(std::string_view text);

/// The lines of `perf report --stdio --no-children --sort pid` as ("TID:name", percent): one per
/// thread (the name is ":TID" when perf missed it).
std::vector<std::pair<std::string, double>> parse_thread_report(std::string_view text);

/// "# Samples: 3K of event 'cpu-clock'" → "3K"; "" when absent.
std::string sample_count(std::string_view text);

/// The group a symbol belongs to: "telluride" (the program, simdjson), "libc malloc/free",
/// "libc other", "kernel", "CAF", "rabbitmq-c", "libuv", "libstdc++", "vdso" or "other".
/// `program` is the daemon's file name (its dso name in the report).
std::string group_of(const profile_line& line, std::string_view program);

/// The groups' shares, largest first (every group listed, zeros included).
std::vector<std::pair<std::string, double>> group_shares(const std::vector<profile_line>& lines,
                                                         std::string_view program);

struct profile_summary {
  std::string samples;
  std::vector<profile_line> top;  ///< the largest symbols
  std::vector<std::pair<std::string, double>> groups;
  std::vector<std::pair<std::string, double>> threads;
};

/// Runs `perf report` on `perf_data` (twice: by symbol and by thread) and summarises it.
causeway::expected<profile_summary> profile(const std::string& perf, const std::string& perf_data,
                                            std::string_view program, std::size_t top = 25);

/// Prints the summary (stdout) and returns it as JSON.
nlohmann::json print_profile(const profile_summary& summary);

} // namespace daemon_bench
