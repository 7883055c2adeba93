#include "daemon/paced.hpp"

#include "daemon/daemon_metrics.hpp"
#include "daemon/report.hpp"
#include "daemon/scoped_topology.hpp"
#include "support/child_process.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using bench::clock_type;

namespace daemon_bench {

namespace {

/// CPU seconds of every live thread of `pid`, from schedstat (nanoseconds; finer than the
/// process's stat ticks, which matters for an idle daemon).
double threads_cpu_seconds(long pid) {
  double sum = 0;
  for (const auto& t : bench::process_threads(pid))
    sum += t.cpu_s;
  return sum;
}

/// The threads of `after` with the CPU each used, and the context switches each made, since
/// `before` (a thread not in `before` started meanwhile: all of them).
std::vector<bench::thread_cpu> cpu_since(const std::vector<bench::thread_cpu>& before,
                                         std::vector<bench::thread_cpu> after) {
  for (auto& t : after)
    for (const auto& b : before)
      if (b.tid == t.tid) {
        t.cpu_s -= b.cpu_s;
        t.voluntary_switches -= std::min(t.voluntary_switches, b.voluntary_switches);
        t.involuntary_switches -= std::min(t.involuntary_switches, b.involuntary_switches);
      }
  return after;
}

} // namespace

paced_runs run_paced(const settings& s, causeway::amqp::connection& admin, int round) {
  paced_runs out;
  const std::string tag = "paced_r" + std::to_string(round) + "_s" + std::to_string(s.sensors);
  scoped_topology topology{admin, "bench_daemon_" + std::to_string(::getpid()) + "_" + tag + "_",
                           telluride::state_mode::durable};
  auto port = bench::free_local_port();
  if (port == 0)
    die("no free local TCP port for the daemon's HTTP");
  const std::string token = "bench-" + std::to_string(::getpid()) + "-" + tag;
  const auto config_path = write_config_file(s, topology.config(), port, token, tag);
  const auto log_path = (std::filesystem::path{s.work_dir} / ("daemon-" + tag + ".log")).string();
  std::filesystem::remove(log_path);
  auto spawned = bench::child_process::spawn({s.telluride, "pipeline", "--config", config_path, "--amqp", s.url}, log_path);
  if (!spawned)
    die(spawned.err().message);
  bench::child_process daemon = std::move(*spawned);
  set_running_daemon(&daemon);
  const long pid = daemon.pid();
  wait_until_ready(daemon, port, "the paced daemon");

  // Idle: ready, nothing to read. Its start-up work (restore, first checkpoint) settles first.
  std::this_thread::sleep_for(1s);
  const double idle_before = threads_cpu_seconds(pid);
  const auto idle_started = clock_type::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(s.idle_seconds));
  out.idle_seconds = std::chrono::duration<double>(clock_type::now() - idle_started).count();
  out.idle_core_percent = 100 * (threads_cpu_seconds(pid) - idle_before) / out.idle_seconds;
  std::fprintf(stderr, "  idle daemon: %.2f %% of a core over %.1f s\n", out.idle_core_percent, out.idle_seconds);

  std::size_t total = 0;
  for (double rate : s.paced_rates) {
    paced_result r;
    r.target_rate = rate;
    const std::string publisher_log = log_path + ".sensors-" + std::to_string(static_cast<long long>(rate));
    std::filesystem::remove(publisher_log);
    const auto threads_before = bench::process_threads(pid);
    const auto started = clock_type::now();
    // --duration, not --messages: where the broker cannot take the rate, the run still ends in time.
    auto publisher = bench::child_process::spawn(
      {s.telluride, "sensors", "--config", config_path, "--amqp", s.url, "--count", std::to_string(s.sensors),
       "--rate", std::to_string(rate), "--duration", std::to_string(s.paced_seconds), "--seed", "1", "--hot-share", "0",
       "--confirm-window", "4000", "--quiet", "--json"},
      publisher_log);
    if (!publisher)
      die(publisher.err().message);
    std::function<void()> stop_publisher = [&publisher] { publisher->signal(SIGKILL); };
    on_die(&stop_publisher);
    auto status = publisher->wait(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(s.paced_seconds + 120)));
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
      die("telluride sensors at " + std::to_string(rate) + " readings/s did not exit 0: " + publisher->log_tail(3));
    forget_on_die(&stop_publisher);
    // Its summary, the last line of its log: {"sent": N, "confirmed": N, ...}
    auto summary = nlohmann::json::parse(publisher->log_tail(1), nullptr, false);
    if (!summary.is_object() || !summary.contains("sent"))
      die("telluride sensors printed no summary: " + publisher->log_tail(3));
    r.readings = summary.value("sent", std::size_t{0});
    total += r.readings;
    wait_for_metric(daemon, port, "telluride_readings_total{outcome=\"successful\"}", static_cast<double>(total));
    const double span = std::chrono::duration<double>(clock_type::now() - started).count();
    const auto used = cpu_since(threads_before, bench::process_threads(pid));
    r.threads = labelled_threads(used, pid);
    const auto labels = thread_labels(used, pid);
    for (std::size_t i = 0; i < used.size(); ++i)
      r.wakeups.emplace_back(labels[i], used[i].voluntary_switches);
    for (const auto& [label, cpu] : r.threads)
      r.cpu_s += cpu;
    r.achieved_rate = static_cast<double>(r.readings) / span;
    // Everything acknowledged (durable mode: after its checkpoint) before the next rate.
    wait_for_metric(daemon, port, "telluride_amqp_acked_total", static_cast<double>(total));
    std::fprintf(stderr, "  paced %.0f readings/s: %zu readings at %.0f/s, %.2f CPU-s per million readings\n", rate,
                 r.readings, r.achieved_rate, r.cpu_s_per_million());
    out.runs.push_back(r);
  }
  out.peak_rss_mib = bench::process_peak_rss_mib(pid);
  daemon.signal(SIGTERM);
  auto status = daemon.wait(120s);
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    die("the paced daemon did not exit 0 after SIGTERM");
  set_running_daemon(nullptr);
  return out;
}

} // namespace daemon_bench
