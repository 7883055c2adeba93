// Per-core CPU of the host from /proc/stat: parsing its `cpuN` lines and the busy share of each
// core between two readings, and the meter over a file.
#include "telluride/telemetry/host_cpu.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

using namespace telluride;

namespace {

constexpr const char* stat_before =
  "cpu  300 0 100 1600 0 0 0 0 0 0\n"
  "cpu0 100 0 50 800 0 0 0 0 0 0\n"
  "cpu1 200 0 50 800 0 0 0 0 0 0\n"
  "intr 110324694 0 0 0\n"
  "ctxt 650912777\n";

constexpr const char* stat_after =
  "cpu  460 0 140 1800 0 0 0 0 0 0\n"
  "cpu0 150 0 50 850 25 10 5 10 7 0\n"  // busy +50+10+5+10 = 75 of 75+75 ticks; guest not added
  "cpu1 200 0 50 990 0 0 0 0 0 0\n"     // only idle grew
  "intr 110324700 0 0 0\n";

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream{path, std::ios::binary | std::ios::trunc} << text;
}

} // namespace

TEST_CASE("parse_proc_stat reads each cpuN line and leaves out the all-cores line") {
  auto cores = parse_proc_stat(stat_before);
  REQUIRE(cores);
  REQUIRE(cores->size() == 2);
  CHECK((*cores)[0].busy == 150);
  CHECK((*cores)[0].total == 950);
  CHECK((*cores)[1].busy == 250);
  CHECK((*cores)[1].total == 1050);
}

TEST_CASE("parse_proc_stat refuses a cpuN line that is short or not numeric") {
  CHECK_FALSE(parse_proc_stat("cpu0 1 2 3 4 5 6 7\n"));
  CHECK_FALSE(parse_proc_stat("cpu0 1 2 3 x 5 6 7 8\n"));
  CHECK_FALSE(parse_proc_stat("cpu0 1 2 3 -4 5 6 7 8\n"));
  auto none = parse_proc_stat("intr 1 2\nctxt 3\n");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("core_busy_percent is the growth of busy ticks over the growth of all ticks, per core") {
  auto before = parse_proc_stat(stat_before);
  auto after = parse_proc_stat(stat_after);
  REQUIRE(before);
  REQUIRE(after);
  auto percent = core_busy_percent(*before, *after);
  REQUIRE(percent.size() == 2);
  CHECK(percent[0] == doctest::Approx(50.0));  // 75 busy of 150
  CHECK(percent[1] == doctest::Approx(0.0));   // 190 idle ticks, no busy one
}

TEST_CASE("core_busy_percent reads 0 for a core whose ticks did not grow, and nothing when cores differ") {
  std::vector<core_ticks> one{{10, 100}};
  CHECK(core_busy_percent(one, one) == std::vector<double>{0.0});
  CHECK(core_busy_percent(one, {{5, 90}}) == std::vector<double>{0.0});  // went back
  CHECK(core_busy_percent(one, {{10, 100}, {1, 2}}).empty());
}

TEST_CASE("host_cpu_meter answers nothing at first, then each core's share since the previous sample") {
  auto path = std::filesystem::temp_directory_path() / ("host_cpu_test_" + std::to_string(::getpid()) + ".stat");
  write_file(path, stat_before);
  host_cpu_meter meter{path.string()};
  CHECK(meter.sample().empty());
  write_file(path, stat_after);
  auto percent = meter.sample();
  REQUIRE(percent.size() == 2);
  CHECK(percent[0] == doctest::Approx(50.0));
  CHECK(percent[1] == doctest::Approx(0.0));
  std::filesystem::remove(path);
  CHECK(meter.sample().empty());  // the file is gone: no CPU shown
}

TEST_CASE("host_cpu_meter reads a file of many chunks whole: 2,000 cores, each one's share") {
  // ~60 KiB of text, read 16 KiB at a time into the buffer the meter keeps between samples.
  auto path = std::filesystem::temp_directory_path() / ("host_cpu_test_big_" + std::to_string(::getpid()) + ".stat");
  constexpr int cores = 2000;
  // Core i: `busy` ticks user, the rest of `total` idle.
  auto stat = [&](auto busy, int total) {
    std::string text = "cpu  0 0 0 0 0 0 0 0 0 0\n";
    for (int i = 0; i < cores; ++i)
      text += "cpu" + std::to_string(i) + " " + std::to_string(busy(i)) + " 0 0 " + std::to_string(total - busy(i)) +
              " 0 0 0 0 0 0\n";
    return text + "intr 1 0 0 0\n";
  };
  const std::string before = stat([](int) { return 0; }, 1000);
  REQUIRE(before.size() > 3 * 16 * 1024);
  write_file(path, before);
  host_cpu_meter meter{path.string()};
  CHECK(meter.sample().empty());
  write_file(path, stat([](int i) { return 25 * (i % 5); }, 1100));  // 100 more ticks, 25 * (i % 5) busy
  auto percent = meter.sample();
  std::filesystem::remove(path);
  REQUIRE(percent.size() == static_cast<std::size_t>(cores));
  for (int i = 0; i < cores; ++i)
    CHECK(percent[i] == doctest::Approx(25.0 * (i % 5)));
}

TEST_CASE("host_cpu_meter reads this host's /proc/stat: one share per core, each in 0..100") {
  host_cpu_meter meter;
  meter.sample();
  auto percent = meter.sample();
  REQUIRE(percent.size() == static_cast<std::size_t>(parse_proc_stat([] {
    std::ifstream f{"/proc/stat"};
    return std::string{std::istreambuf_iterator<char>(f), {}};
  }())->size()));
  CHECK_FALSE(percent.empty());
  for (double p : percent)
    CHECK((p >= 0.0 && p <= 100.0));
}
