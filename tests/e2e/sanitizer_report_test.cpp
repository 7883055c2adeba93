// What the end-to-end processes take for a sanitizer report in a program's output: each
// sanitizer's opening line, found wherever it lands among the program's own lines.
#include "sanitizer_report.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using e2e::sanitizer_report;

TEST_CASE("each sanitizer's report is found, from its first line on") {
  const std::string before = "[info] telluride pipeline: consuming sensor_reading_queue\n";
  const std::vector<std::string> reports = {
    "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010\n"
    "    #0 0x55d0 in telluride::sensor_table::fold sensor_table.cpp:42\n",
    "==4242==ERROR: LeakSanitizer: detected memory leaks\n\nDirect leak of 24 byte(s)\n",
    "/work/pipeline/telluride/domain/running_stats.cpp:31:9: runtime error: signed integer "
    "overflow: 9223372036854775807 + 1 cannot be represented in type 'long int'\n",
    "WARNING: ThreadSanitizer: data race (pid=4242)\n  Write of size 8 at 0x7b0400000000\n",
    "==4242==ERROR: ThreadSanitizer: SEGV on unknown address 0x000000000000\n",
  };
  for (const auto& report : reports) {
    CAPTURE(report);
    CHECK(sanitizer_report(before + report + "[info] drained\n") == report + "[info] drained\n");
    CHECK(sanitizer_report(report) == report);
  }
}

TEST_CASE("the first of two reports is where the report starts") {
  const std::string leak = "==7==ERROR: LeakSanitizer: detected memory leaks\n";
  const std::string overflow = "a.cpp:1:1: runtime error: shift exponent 70 is too large\n";
  CHECK(sanitizer_report("x\n" + overflow + leak) == overflow + leak);
}

TEST_CASE("a program's own errors are no sanitizer report") {
  CHECK(sanitizer_report("").empty());
  CHECK(sanitizer_report("telluride pipeline: cannot start on the broker: connect to 127.0.0.1:1: "
                         "Connection refused\n").empty());
  CHECK(sanitizer_report("stage processor/0 ended: runtime_error: handler threw\n").empty());
  CHECK(sanitizer_report("error: AddressSanitizer is not a flag\n").empty());
}
