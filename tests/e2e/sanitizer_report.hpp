// sanitizer_report.hpp — finding a sanitizer report in what a program the tests started wrote.
// In a sanitizer build (cmake/Sanitizers.cmake) a report ends the program with exit code 66,
// but a test that expects the program to fail (a bad flag: exit 1) would take that for the
// failure it wanted, and a test that kills the daemon never sees its exit code: so the
// processes of e2e_process.hpp and daemon_process.hpp look for reports in their output too.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace e2e {

/// The lines from the first sanitizer report in `output` on (AddressSanitizer, LeakSanitizer,
/// UndefinedBehaviorSanitizer, ThreadSanitizer), or empty when it holds none.
inline std::string sanitizer_report(const std::string& output) {
  constexpr std::string_view markers[] = {
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ",
    "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer"};
  std::size_t first = std::string::npos;
  for (auto marker : markers)
    first = std::min(first, output.find(marker));
  if (first == std::string::npos)
    return {};
  auto line_start = output.rfind('\n', first);
  return output.substr(line_start == std::string::npos ? 0 : line_start + 1);
}

/// Fails the running test case (without stopping it) when `output` holds a sanitizer report,
/// showing the report.
inline void check_no_sanitizer_report(const std::string& program, const std::string& output) {
  if (auto report = sanitizer_report(output); !report.empty())
    FAIL_CHECK(program << " wrote a sanitizer report:\n" << report);
}

} // namespace e2e
