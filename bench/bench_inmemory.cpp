// bench_inmemory — Causeway's own overhead: 100-byte messages through producer(1) →
// processors(2) → 2 batchers (batch 100) → batch processors (2 each), no-op handlers, a
// counting acknowledger. A feeder thread keeps at most `window` messages outstanding, so the
// figure includes creating messages and memory stays flat. Then, in the same run, the same
// shape and feeding built from bare CAF actors passing vectors (inmemory/bare_caf.hpp): the
// reference. Each side runs in a child process of its own, on a fresh heap. Prints one JSON
// line: Causeway's figures, the reference's (bare_caf_*), and ratio = Causeway's rate / the
// reference's.
//
// Then both sides again beside the noisy neighbour (bench/noisy_neighbour.cpp, --noise F of
// every millisecond streaming through 4 x the last-level cache; 0 leaves it out), as
// bench_daemon's noisy side: ratio_noisy and the other *_noisy figures.
//
//   bench_inmemory [--messages N] [--window W] [--workers T] [--noise 0.3] [--passes N]
//                  [--noisy-neighbour PATH]
#include "causeway/in_memory_producer.hpp"
#include "causeway/pipeline.hpp"
#include "causeway/runtime.hpp"
#include "causeway/testing.hpp"
#include "inmemory/bare_caf.hpp"
#include "support/bench_support.hpp"
#include "support/command_line.hpp"
#include "support/neighbour_process.hpp"

#include <caf/actor_system.hpp>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

struct noop_handler : causeway::handler {
  void handle_message(causeway::message& msg, const causeway::context&) override {
    // Route by the payload's last byte, as a real handler routes by a key it read.
    msg.put_batcher(msg.data.back() & 1 ? "two" : "one");
  }
};

struct causeway_result {
  double seconds = 0;
  double cpu_s = 0;
  std::uint64_t successful = 0;
  std::uint64_t failed = 0;
  double peak_rss_mib = 0;
};

/// One line on stderr, then the JSON error line (bench/run.sh contract), and exit 1.
[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bench_inmemory: %s\n", why.c_str());
  std::printf("%s\n", nlohmann::json{{"name", "inmemory"}, {"error", why}}.dump().c_str());
  std::exit(1);
}

/// What `side()` returns, computed in a child process. Both sides once ran in this process one
/// after the other, and the second inherited the first one's heap: the reference ran 10-15 %
/// slower after Causeway's vectors of 128 KB, which glibc keeps in the heap, than after
/// vectors of 160 KB, which it maps and unmaps (2026-12-07). Exits on a child that fails.
template <class Side>
auto in_child(const char* what, Side side) {
  using result = decltype(side());
  static_assert(std::is_trivially_copyable_v<result>);
  int fds[2];
  if (::pipe(fds) != 0)
    die(std::string{"pipe: "} + std::strerror(errno));
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0)
    die(std::string{"fork: "} + std::strerror(errno));
  if (child == 0) {
    ::close(fds[0]);
    const result r = side();
    const bool written = ::write(fds[1], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
    std::fflush(nullptr);
    ::_exit(written ? 0 : 1);
  }
  ::close(fds[1]);
  result r{};
  const bool read_all = ::read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!read_all || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die(std::string{"the "} + what + " side did not finish");
  return r;
}

causeway_result run_causeway(std::uint64_t total, std::uint64_t window, std::uint64_t workers, std::size_t chunk) {
  causeway_result out;
  causeway::runtime_config cfg{workers};
  caf::actor_system system{cfg};
  auto acks = std::make_shared<causeway::testing::counting_acknowledger>();
  auto feed = causeway::in_memory_feed::make(acks);

  causeway::pipeline_spec spec;
  spec.options.producer.concurrency = 1;
  spec.options.processors.concurrency = 2;
  for (const char* name : {"one", "two"}) {
    causeway::batcher_options b;
    b.name = name;
    b.batch_size = 100;
    b.concurrency = 2;
    b.batch_timeout = std::chrono::milliseconds(100);
    spec.options.batchers.push_back(b);
  }
  spec.handler = std::make_shared<noop_handler>();
  spec.make_producer = feed->factory();
  auto started = causeway::pipeline::start(system, spec);
  if (!started) {
    std::fprintf(stderr, "bench_inmemory: %s\n", started.err().message.c_str());
    std::printf("{\"name\": \"inmemory\", \"error\": \"the pipeline did not start\"}\n");
    std::exit(1);
  }
  auto pipeline = std::move(*started);

  const std::string payload(100, 'x');
  auto cpu_before = bench::own_cpu_seconds();
  auto begin = std::chrono::steady_clock::now();
  std::uint64_t pushed = 0;
  while (pushed < total) {
    while (pushed - (acks->successful() + acks->failed()) >= window)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::vector<causeway::message> batch;
    auto n = std::min<std::uint64_t>(chunk, total - pushed);
    batch.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      batch.emplace_back(payload);
      batch.back().data.back() = static_cast<char>('0' + (pushed + i) % 10);
    }
    feed->push(std::move(batch));
    pushed += n;
  }
  acks->wait_for(total, std::chrono::minutes(10));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  out.cpu_s = bench::own_cpu_seconds() - cpu_before;
  pipeline.drain();
  out.successful = acks->successful();
  out.failed = acks->failed();
  out.peak_rss_mib = bench::peak_rss_mib();
  return out;
}

/// One pass of both sides, each in a process of its own, of `total` messages.
struct pass {
  std::uint64_t total = 0;
  causeway_result causeway;
  inmemory_bench::bare_result bare;

  double rate() const { return static_cast<double>(total) / causeway.seconds; }
  double bare_rate() const { return static_cast<double>(bare.counted) / bare.seconds; }
  double cpu_us() const { return causeway.cpu_s * 1e6 / static_cast<double>(total); }
  double bare_cpu_us() const { return bare.cpu_s * 1e6 / static_cast<double>(total); }
  double ratio() const { return rate() / bare_rate(); }
  double cpu_ratio() const { return cpu_us() / bare_cpu_us(); }
};

pass run_pass(std::uint64_t total, std::uint64_t window, std::uint64_t workers, std::size_t chunk) {
  pass p;
  p.total = total;
  p.causeway = in_child("Causeway", [&] { return run_causeway(total, window, workers, chunk); });
  p.bare = in_child("bare CAF", [&] { return inmemory_bench::run_bare_caf(total, window, workers, chunk); });
  return p;
}

/// The pass of median ratio (Causeway's rate / the reference's); `passes` is not empty.
pass median_pass(std::vector<pass> passes) {
  std::sort(passes.begin(), passes.end(),
            [](const pass& a, const pass& b) { return a.ratio() < b.ratio(); });
  return passes[passes.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  std::uint64_t total = 10'000'000;
  std::uint64_t window = 20'000;
  std::uint64_t workers = 2;
  double noise = 0.3;
  std::uint64_t passes = 1;
  std::string neighbour;
  CLI::App app{"Causeway's own overhead: messages through an in-memory pipeline with no-op handlers.",
               "bench_inmemory"};
  bench::last_one_wins(app);
  app.add_option("--messages", total, "messages to run through")->check(CLI::Range(1ull, 1'000'000'000ull));
  app.add_option("--window", window, "messages outstanding at most")->check(CLI::Range(1ull, 100'000'000ull));
  app.add_option("--workers", workers, "actor system worker threads")->check(CLI::Range(1ull, 256ull));
  app.add_option("--noise", noise, "busy share of each millisecond of the noisy neighbour (0: quiet only)")
    ->check(CLI::Range(0.0, 0.95));
  app.add_option("--passes", passes, "quiet and noisy passes, alternated; the median of each is reported")
    ->check(CLI::Range(1ull, 99ull));
  app.add_option("--noisy-neighbour", neighbour, "the noisy_neighbour program (default: beside bench_inmemory)");
  bench::parse_command_line(app, argc, argv, "inmemory");
  if (neighbour.empty())
    neighbour = (std::filesystem::path{argv[0]}.parent_path() / "noisy_neighbour").string();
  if (noise > 0 && ::access(neighbour.c_str(), X_OK) != 0)
    die("no noisy_neighbour program at " + neighbour + " (--noisy-neighbour PATH, or --noise 0)");
  constexpr std::size_t chunk = 1000;

  // Quiet and noisy passes alternate. Of each kind the pass of median ratio is reported, as a
  // pair: its two sides shared that pass's noise, and the median by one side's rate could pick
  // a pass whose reference was an outlier.
  std::vector<pass> quiet_passes;
  std::vector<pass> noisy_passes;
  double neighbour_cpu = 0;
  for (std::uint64_t i = 0; i < passes; ++i) {
    quiet_passes.push_back(run_pass(total, window, workers, chunk));
    const pass& q = quiet_passes.back();
    std::fprintf(stderr, "inmemory: Causeway %.0f msgs/s, %.3f us CPU per message; bare CAF %.0f msgs/s, %.3f us; ratio %.3f\n",
                 q.rate(), q.cpu_us(), q.bare_rate(), q.bare_cpu_us(), q.ratio());
    if (noise <= 0)
      continue;
    // Both sides beside the same neighbour, as bench/run.sh daemon's noisy side.
    const auto log = std::filesystem::temp_directory_path() / ("bench_inmemory-neighbour-" + std::to_string(::getpid()) + ".log");
    auto started = bench::neighbour_process::start(neighbour, noise, log.string());
    if (!started)
      die(started.err().message);
    noisy_passes.push_back(run_pass(total, window, workers, chunk));
    auto summary = started->stop();
    std::error_code ignored;
    std::filesystem::remove(log, ignored);
    if (!summary)
      die(summary.err().message);
    neighbour_cpu += summary->cpu_fraction / static_cast<double>(passes);
    const pass& n = noisy_passes.back();
    std::fprintf(stderr,
                 "inmemory beside the noisy neighbour (--noise %.2f, on a core %.3f of the time): Causeway %.0f msgs/s, "
                 "%.3f us CPU per message; bare CAF %.0f msgs/s, %.3f us; ratio %.3f\n",
                 noise, summary->cpu_fraction, n.rate(), n.cpu_us(), n.bare_rate(), n.bare_cpu_us(), n.ratio());
  }
  bool complete = true;
  for (const auto* all : {&quiet_passes, &noisy_passes})
    for (const pass& p : *all)
      complete = complete && p.causeway.successful == total && p.bare.counted == total;
  const pass quiet = median_pass(quiet_passes);
  std::string noisy_json;
  if (!noisy_passes.empty()) {
    const pass noisy = median_pass(noisy_passes);
    char buffer[512];
    std::snprintf(buffer, sizeof buffer,
                  ", \"noise\": %.2f, \"neighbour_cpu_fraction\": %.3f, \"msgs_per_s_noisy\": %.0f, "
                  "\"cpu_us_per_msg_noisy\": %.3f, \"bare_caf_msgs_per_s_noisy\": %.0f, "
                  "\"bare_caf_cpu_us_per_msg_noisy\": %.3f, \"ratio_noisy\": %.3f, \"cpu_ratio_noisy\": %.3f",
                  noise, neighbour_cpu, noisy.rate(), noisy.cpu_us(), noisy.bare_rate(), noisy.bare_cpu_us(),
                  noisy.ratio(), noisy.cpu_ratio());
    noisy_json = buffer;
  }
  std::printf("{\"name\": \"inmemory\", \"messages\": %llu, \"seconds\": %.3f, \"msgs_per_s\": %.0f, "
              "\"cpu_us_per_msg\": %.3f, \"peak_rss_mib\": %.1f, \"failed\": %llu, \"workers\": %llu, "
              "\"bare_caf_seconds\": %.3f, \"bare_caf_msgs_per_s\": %.0f, \"bare_caf_cpu_us_per_msg\": %.3f, "
              "\"ratio\": %.3f, \"cpu_ratio\": %.3f%s}\n",
              static_cast<unsigned long long>(total), quiet.causeway.seconds, quiet.rate(), quiet.cpu_us(),
              quiet.causeway.peak_rss_mib, static_cast<unsigned long long>(quiet.causeway.failed),
              static_cast<unsigned long long>(workers), quiet.bare.seconds, quiet.bare_rate(), quiet.bare_cpu_us(),
              quiet.ratio(), quiet.cpu_ratio(), noisy_json.c_str());
  return complete ? 0 : 1;
}
