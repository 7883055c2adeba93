// noisy_neighbour — a neighbour that competes for a core and for the caches, as other
// tenants of a shared host do (issue P2.4): for a fraction F of every period (~1 ms) it
// streams through a buffer several times the size of the last-level cache, reading and
// writing one word per cache line, and sleeps the rest of the period. Started and stopped by
// the benchmarks (bench_daemon --noise F); it never outlives the process that started it.
//
//   noisy_neighbour --fraction 0.3 [--period-us 1000] [--buffer-mib N] [--max-seconds 3600]
//
// The buffer defaults to 4 × the last-level cache of cpu0 (/sys/devices/system/cpu/cpu0/
// cache/index*/size, the highest level; 32 MiB when unreadable). It runs until SIGTERM or
// SIGINT (or --max-seconds), then prints one JSON line on stdout: the fraction asked for, the
// share of its wall time it spent in busy phases (preemptions included), the CPU it got in
// fractions of one core, the periods run and the bytes streamed.
#include "support/command_line.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested.store(true); }

/// "49152K" → bytes; 0 for anything else.
std::size_t parse_cache_size(const std::string& text) {
  std::size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &used);
  } catch (const std::exception&) {
    return 0;
  }
  std::string unit = text.substr(used);
  while (!unit.empty() && (unit.back() == '\n' || unit.back() == ' '))
    unit.pop_back();
  if (unit == "K")
    return n << 10;
  if (unit == "M")
    return n << 20;
  return unit.empty() ? n : 0;
}

/// The size of cpu0's last-level cache (the highest level /sys lists), 0 when unknown.
std::size_t last_level_cache_bytes() {
  int best_level = -1;
  std::size_t best_size = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/devices/system/cpu/cpu0/cache", ec)) {
    if (!entry.path().filename().string().starts_with("index"))
      continue;
    int level = -1;
    std::string size;
    std::ifstream{entry.path() / "level"} >> level;
    std::ifstream{entry.path() / "size"} >> size;
    if (std::size_t bytes = parse_cache_size(size); level > best_level && bytes > 0) {
      best_level = level;
      best_size = bytes;
    }
  }
  return best_size;
}

} // namespace

int main(int argc, char** argv) {
  double fraction = 0.3;
  std::int64_t period_us = 1000;
  std::size_t buffer_mib = 0;
  double max_seconds = 3600;
  CLI::App app{"Streams through a buffer larger than the last-level cache for a fraction of every period.",
               "noisy_neighbour"};
  bench::last_one_wins(app);
  app.add_option("--fraction", fraction, "busy share of each period")->check(CLI::Range(0.0, 1.0));
  app.add_option("--period-us", period_us, "period in microseconds")->check(CLI::Range(100, 1'000'000));
  app.add_option("--buffer-mib", buffer_mib, "buffer size (default 4 x the last-level cache)")
    ->check(CLI::Range(1, 65536));
  app.add_option("--max-seconds", max_seconds, "ends by itself after this long")->check(CLI::Range(1.0, 86400.0));
  bench::parse_command_line(app, argc, argv, "noisy_neighbour");

  // Never outlive the benchmark that started it, however that one ends.
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent)
    return 0;
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);

  const std::size_t llc = last_level_cache_bytes();
  const std::size_t bytes = buffer_mib > 0 ? buffer_mib << 20 : std::max<std::size_t>(4 * llc, 32u << 20);
  constexpr std::size_t line = 64;
  constexpr std::size_t chunk = 64 * 1024;  // streamed between two looks at the clock
  std::vector<std::uint64_t> buffer(bytes / sizeof(std::uint64_t), 1);

  const auto period = std::chrono::microseconds(period_us);
  const auto busy = std::chrono::duration_cast<clock_type::duration>(period * fraction);
  const auto started = clock_type::now();
  const auto deadline = started + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(max_seconds));
  auto period_start = started;
  clock_type::duration busy_total{};
  std::uint64_t periods = 0;
  std::uint64_t streamed = 0;
  std::size_t at = 0;  // index into buffer, continued across periods
  const std::size_t words_per_line = line / sizeof(std::uint64_t);
  const std::size_t words_per_chunk = chunk / sizeof(std::uint64_t);
  while (!stop_requested.load() && period_start < deadline) {
    const auto busy_until = period_start + busy;
    auto now = clock_type::now();
    while (now < busy_until) {
      const std::size_t end = std::min(at + words_per_chunk, buffer.size());
      for (std::size_t i = at; i < end; i += words_per_line)
        buffer[i] += buffer[i] >> 3;  // a read and a write per line: clean and dirty traffic
      streamed += (end - at) * sizeof(std::uint64_t);
      at = end == buffer.size() ? 0 : end;
      now = clock_type::now();
    }
    busy_total += std::max(now, period_start) - period_start;
    ++periods;
    period_start += period;
    if (period_start < now)  // overran (preempted): start the next period now
      period_start = now;
    else
      std::this_thread::sleep_until(period_start);
  }
  const double wall = std::chrono::duration<double>(clock_type::now() - started).count();
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  const double cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  std::uint64_t checksum = 0;
  for (std::size_t i = 0; i < buffer.size(); i += words_per_line * 4096)
    checksum += buffer[i];
  std::printf("{\"name\": \"noisy_neighbour\", \"fraction\": %.3f, \"busy_fraction\": %.3f, \"cpu_fraction\": %.3f, "
              "\"periods\": %llu, "
              "\"period_us\": %lld, \"buffer_mib\": %.0f, \"llc_mib\": %.1f, \"gib_streamed\": %.2f, \"seconds\": %.2f, "
              "\"checksum\": %llu}\n",
              fraction, wall > 0 ? std::chrono::duration<double>(busy_total).count() / wall : 0.0,
              wall > 0 ? cpu / wall : 0.0,
              static_cast<unsigned long long>(periods), static_cast<long long>(period_us),
              static_cast<double>(bytes) / (1 << 20), static_cast<double>(llc) / (1 << 20),
              static_cast<double>(streamed) / (1ull << 30), wall, static_cast<unsigned long long>(checksum));
  return 0;
}
