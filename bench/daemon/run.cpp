#include "daemon/run.hpp"

#include "daemon/daemon_metrics.hpp"
#include "daemon/daemon_setup.hpp"
#include "daemon/scoped_topology.hpp"
#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/queue_collection.hpp"

#include <causeway/amqp/topology_declaration.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

namespace amqp = causeway::amqp;
using namespace std::chrono_literals;
using bench::clock_type;

namespace daemon_bench {

namespace {

// The daemon of the run in progress: killed by die().
bench::child_process* running_daemon = nullptr;

// What die() undoes (on_die): the topologies runs declared, helper processes (the noisy
// neighbour, perf).
std::vector<std::function<void()>*> cleanups;

// Preloaded queues whose process could not be garbage-collected before their drain.
std::size_t uncollected = 0;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

} // namespace

[[noreturn]] void die(const std::string& why) {
  if (running_daemon != nullptr) {
    std::fprintf(stderr, "bench_daemon: the daemon's log ends with:\n%s", running_daemon->log_tail().c_str());
    running_daemon->signal(SIGKILL);
    (void)running_daemon->wait(10s);
  }
  for (auto* cleanup : std::vector(cleanups))
    (*cleanup)();
  std::fprintf(stderr, "bench_daemon: %s\n", why.c_str());
  std::printf("%s\n", nlohmann::json{{"name", "daemon"}, {"error", why}}.dump().c_str());
  std::exit(1);
}

void on_die(std::function<void()>* cleanup) { cleanups.push_back(cleanup); }

void forget_on_die(std::function<void()>* cleanup) { std::erase(cleanups, cleanup); }

void set_running_daemon(bench::child_process* daemon) { running_daemon = daemon; }

bool were_queues_collected(const settings& s) { return !s.broker_ctl.empty() && s.collect_queues && uncollected == 0; }

namespace {

// --- the broker side ----------------------------------------------------------------------------

// Has the broker garbage-collect the process of the preloaded `queue` (a full sweep) before the
// drain (support/queue_collection.hpp). When that cannot be done, one line says so and the drain
// goes on.
void collect_queue_process(const settings& s, const std::string& queue) {
  const auto log = (std::filesystem::path{s.work_dir} / "broker-ctl.log").string();
  if (auto collected = bench::collect_queue_processes(s.broker_ctl, log, {queue}); !collected) {
    ++uncollected;
    std::fprintf(stderr, "  the process of %s was not garbage-collected before its drain: %s\n", queue.c_str(),
                 collected.err().message.c_str());
  }
}

void preload_readings(const settings& s, const bench::reading_fleet& fleet, const std::string& queue,
                      const std::string& id_prefix) {
  bench::preload_options options;
  options.url = s.url;
  options.connection_name = "bench-preload";
  options.routing_key = queue;  // the default exchange routes to the queue of that name
  options.messages = s.messages;
  auto started = clock_type::now();
  auto loaded = bench::preload(options, [&](std::size_t i, amqp::outgoing_message& msg) { fleet.fill(i, id_prefix, msg); });
  if (!loaded)
    die(loaded.err().message);
  std::fprintf(stderr, "  preloaded %zu readings into %s in %.1f s\n", s.messages, queue.c_str(), seconds_since(started));
  if (!s.broker_ctl.empty() && s.collect_queues)
    collect_queue_process(s, queue);
}

// --- the baseline ---------------------------------------------------------------------------------

} // namespace

std::string write_config_file(const settings& s, const telluride::config& topology, std::uint16_t port,
                              const std::string& token, const std::string& tag) {
  auto path = (std::filesystem::path{s.work_dir} / ("daemon-" + tag + ".json")).string();
  if (auto written = write_daemon_config(topology, daemon_file{s.url, port, token, s.daemon_overrides}, path); !written)
    die(written.err().message);
  return path;
}

bench::drain_result drain_baseline(const settings& s, amqp::connection& admin, const bench::reading_fleet& fleet,
                                   const std::string& tag) {
  scoped_topology topology{admin, "bench_daemon_" + std::to_string(::getpid()) + "_" + tag + "_"};
  const auto& queue = topology.routes().readings_queue;
  preload_readings(s, fleet, queue, tag + "-");
  bench::wait_until_broker_idle(s.broker_pid);
  bench::baseline_options options;
  options.url = s.url;
  options.broker_pid = s.broker_pid;
  options.messages = s.messages;
  options.prefetch = s.prefetch;
  options.ack_every = 100;
  auto segments_before = bench::tcp_out_segments();
  auto broker_switches_before = bench::process_context_switches(s.broker_pid);
  auto drained = bench::run_baseline(options, queue);
  auto broker_switches = bench::process_context_switches(s.broker_pid);
  if (!drained)
    die(drained.err().message);
  // Machine-wide TCP segments per 1000 messages: a hint at how finely the broker cut its deliveries.
  double segments_per_1000 = static_cast<double>(bench::tcp_out_segments() - segments_before) * 1000.0 /
                               static_cast<double>(s.messages);
  std::fprintf(stderr,
               "  rabbitmq-c consumer: %.0f msgs/s, client %.2f CPU-s/M, broker %.2f CPU-s/100k (%.2f collecting), "
               "%.0f TCP segments per 1000, broker waits %.0f and preemptions %.1f per 1000\n",
               drained->msgs_per_s, drained->client_cpu_s * 1e6 / static_cast<double>(s.messages),
               per_100k(drained->broker_cpu_s, s.messages), per_100k(drained->broker_gc_cpu_s, s.messages),
               segments_per_1000,
               per_1000(broker_switches.voluntary - broker_switches_before.voluntary, s.messages),
               per_1000(broker_switches.involuntary - broker_switches_before.involuntary, s.messages));
  return *drained;
}

namespace {

// --- the daemon ---------------------------------------------------------------------------------




void reconfigure(daemon_result& out, std::uint16_t port, const std::string& token) {
  bench::http_call call;
  call.method = "POST";
  call.path = "/api/config";
  call.body = R"({"processor_concurrency": 3})";
  call.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  call.timeout = 130s;
  auto started = clock_type::now();
  auto reply = bench::http_request(port, call);
  out.reconfigure_ms = seconds_since(started) * 1000.0;
  if (!reply)
    die("reconfiguration: " + reply.err().message);
  auto event = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status != 200 || !event.is_object() || event.value("event", "") != "config_applied")
    die("reconfiguration answered " + std::to_string(reply->status) + ": " + reply->body);
  out.drain_ms = event.value("drain_ms", -1.0);
}

/// The last throughput message that counts every reading; its time span gives the rate.
void read_throughput(const settings& s, daemon_result& out, const std::string& queue) {
  auto bodies = bench::take_all(s.url, queue);
  if (!bodies)
    die(bodies.err().message);
  out.throughput_messages = bodies->size();
  std::optional<nlohmann::json> final;
  for (const auto& body : *bodies) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.value("total_successful_count", std::uint64_t{0}) >= s.messages)
      final = std::move(j);
  }
  if (!final)
    die("no throughput message on " + queue + " counts all " + std::to_string(s.messages) + " readings (" +
        std::to_string(bodies->size()) + " messages there)");
  auto span_ms = final->value("last_raw_time", std::int64_t{0}) - final->value("earliest_raw_time", std::int64_t{0});
  // Below 1 ms the span says nothing: fall back to the wall time.
  out.msgs_per_s = span_ms > 0 ? static_cast<double>(s.messages) * 1000.0 / static_cast<double>(span_ms)
                               : static_cast<double>(s.messages) / out.wall_s;
}

/// Starts the daemon again on the stream the run left (nothing left to consume): how long its
/// restore took (its own figure) and how long until it was ready; then stops it.
void measure_restore(const settings& s, daemon_result& out, const std::string& config_path, std::uint16_t port,
                     const std::string& log_path) {
  auto started = clock_type::now();
  auto spawned =
    bench::child_process::spawn({s.telluride, "pipeline", "--config", config_path, "--amqp", s.url}, log_path + ".restart");
  if (!spawned)
    die(spawned.err().message);
  bench::child_process daemon = std::move(*spawned);
  running_daemon = &daemon;
  wait_until_ready(daemon, port, "the restarted daemon");
  out.restart_ready_ms = seconds_since(started) * 1000.0;
  const auto text = metrics_text(port);
  out.restore_ms = bench::prometheus_value(text, "telluride_restore_milliseconds");
  out.restored_sensors = bench::prometheus_value(text, "telluride_restored_sensors");
  daemon.signal(SIGTERM);
  auto status = daemon.wait(120s);
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    die("the restarted daemon did not exit 0 after SIGTERM");
  running_daemon = nullptr;
  if (out.restored_sensors != static_cast<double>(out.sensors))
    die("the restarted daemon restored " + std::to_string(out.restored_sensors) + " sensors, not " +
        std::to_string(out.sensors));
}

} // namespace

daemon_result run_daemon(const settings& s, amqp::connection& admin, std::size_t sensors, const std::string& tag,
                         telluride::state_mode mode, const std::string& perf_output) {
  daemon_result out;
  out.mode = mode;
  out.sensors = sensors;
  scoped_topology topology{admin, "bench_daemon_" + std::to_string(::getpid()) + "_" + tag + "_", mode};
  const auto& routes = topology.routes();
  preload_readings(s, bench::reading_fleet{sensors}, routes.readings_queue, tag + "-");
  bench::wait_until_broker_idle(s.broker_pid);

  auto port = bench::free_local_port();
  if (port == 0)
    die("no free local TCP port for the daemon's HTTP");
  const std::string token = "bench-" + std::to_string(::getpid()) + "-" + tag;
  auto config_path = write_config_file(s, topology.config(), port, token, tag);
  auto log_path = (std::filesystem::path{s.work_dir} / ("daemon-" + tag + ".log")).string();
  std::filesystem::remove(log_path);
  std::filesystem::remove(log_path + ".perf");

  double broker_before = bench::process_cpu_seconds(s.broker_pid);
  double broker_gc_before = bench::threads_cpu_seconds(s.broker_pid, bench::broker_gc_threads);
  auto segments_before = bench::tcp_out_segments();
  auto broker_switches_before = bench::process_context_switches(s.broker_pid);
  auto started = clock_type::now();
  auto spawned = bench::child_process::spawn({s.telluride, "pipeline", "--config", config_path, "--amqp", s.url}, log_path);
  if (!spawned)
    die(spawned.err().message);
  bench::child_process daemon = std::move(*spawned);
  running_daemon = &daemon;
  const long pid = daemon.pid();
  out.pid = pid;
  std::optional<bench::child_process> perf;
  std::function<void()> kill_perf = [&perf] { perf.reset(); };
  if (!perf_output.empty()) {
    // Attached once the daemon runs every thread (ready: consuming): perf attributes the
    // samples of threads started after it attached to their parent.
    wait_until_ready(daemon, port, "the daemon");
    auto recording = bench::child_process::spawn(
      {s.perf, "record", "-g", "--no-buildid", "-p", std::to_string(pid), "-o", perf_output}, log_path + ".perf");
    if (!recording)
      die("perf: " + recording.err().message);
    perf = std::move(*recording);
    on_die(&kill_perf);
  }

  // In flight while draining: near prefetch_count, the broker waits for the daemon's acks.
  std::vector<double> in_flight;
  wait_for_metric(daemon, port, "telluride_readings_total{outcome=\"successful\"}", static_cast<double>(s.messages),
                  [&](const std::string& text) {
                    if (auto n = bench::prometheus_value(text, "telluride_in_flight"); n >= 0)
                      in_flight.push_back(n);
                  });
  out.wall_s = seconds_since(started);
  out.cpu_s = bench::process_cpu_seconds(pid);
  if (perf) {
    perf->signal(SIGINT);
    auto stopped = perf->wait(120s);
    forget_on_die(&kill_perf);
    // perf record ends on SIGINT by exiting, or by the signal itself once it wrote its file.
    if (!stopped || !(WIFEXITED(*stopped) || (WIFSIGNALED(*stopped) && WTERMSIG(*stopped) == SIGINT)))
      die("perf record did not end after SIGINT: " + perf->log_tail(5));
    perf.reset();
  }
  out.peak_rss_mib = bench::process_peak_rss_mib(pid);
  out.threads = bench::process_threads(pid);
  out.broker_cpu_s = bench::process_cpu_seconds(s.broker_pid) - broker_before;
  out.broker_gc_cpu_s = bench::threads_cpu_seconds(s.broker_pid, bench::broker_gc_threads) - broker_gc_before;
  out.tcp_segments_per_1000 =
    static_cast<double>(bench::tcp_out_segments() - segments_before) * 1000.0 / static_cast<double>(s.messages);
  auto broker_switches = bench::process_context_switches(s.broker_pid);
  out.broker_waits_per_1000 = per_1000(broker_switches.voluntary - broker_switches_before.voluntary, s.messages);
  out.broker_preemptions_per_1000 =
    per_1000(broker_switches.involuntary - broker_switches_before.involuntary, s.messages);
  for (const auto& t : out.threads)
    if (t.tid == pid)
      out.startup_cpu_s = t.cpu_s;
  describe_metrics(out, metrics_text(port), s.work_dir, tag);
  if (mode == telluride::state_mode::durable) {
    const auto text = metrics_text(port);
    out.checkpoint_bytes = bench::prometheus_value(text, "telluride_checkpoint_bytes_total");
    out.checkpoint_rounds = bench::prometheus_value(text, "telluride_checkpoint_rounds_total{outcome=\"confirmed\"}");
  }
  if (!in_flight.empty()) {
    double sum = 0;
    for (double n : in_flight)
      sum += n;
    out.mean_in_flight = sum / static_cast<double>(in_flight.size());
    std::sort(in_flight.begin(), in_flight.end());
    out.median_in_flight = in_flight[in_flight.size() / 2];
  }

  // Idle: everything processed and acknowledged.
  wait_for_metric(daemon, port, "telluride_amqp_acked_total", static_cast<double>(s.messages));
  reconfigure(out, port, token);

  auto stopping = clock_type::now();
  daemon.signal(SIGTERM);
  auto status = daemon.wait(120s);
  out.shutdown_ms = seconds_since(stopping) * 1000.0;
  if (!status)
    die("the daemon did not exit within 120 s of SIGTERM");
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    die("the daemon ended with " + bench::describe_status(*status) + " after SIGTERM");
  running_daemon = nullptr;

  read_throughput(s, out, routes.throughput_queue);
  if (mode == telluride::state_mode::durable)
    measure_restore(s, out, config_path, port, log_path);
  if (mode == telluride::state_mode::durable)
    std::fprintf(stderr, "  durable: %.0f checkpoint rounds, %.1f MB of checkpoints (%.1f MB/s); restart: restore %.0f ms, "
                 "ready after %.0f ms\n",
                 out.checkpoint_rounds, out.checkpoint_bytes / 1e6, out.checkpoint_bytes / 1e6 / out.wall_s,
                 out.restore_ms, out.restart_ready_ms);
  std::fprintf(stderr,
               "  daemon (%s), %zu sensors: %.0f msgs/s (%.0f by wall time, %.2f s), %.2f CPU-s/M (start-up %.3f s), "
               "peak RSS %.1f MiB, broker %.2f CPU-s/100k (%.2f collecting), %.0f TCP segments per 1000, "
               "broker waits %.0f and preemptions %.1f per 1000, window full %.0f times for %.0f ms (%.0f %% of the "
               "drain), reconfigure %.1f ms (drain %.0f ms), shutdown %.0f ms\n",
               mode == telluride::state_mode::durable ? "durable" : "memory", sensors, out.msgs_per_s,
               static_cast<double>(s.messages) / out.wall_s, out.wall_s,
               cpu_per_million(out.cpu_s, s.messages), out.startup_cpu_s, out.peak_rss_mib,
               per_100k(out.broker_cpu_s, s.messages), per_100k(out.broker_gc_cpu_s, s.messages),
               out.tcp_segments_per_1000,
               out.broker_waits_per_1000, out.broker_preemptions_per_1000, out.window_full, out.window_full_s * 1e3,
               100 * window_full_share(out, s.messages), out.reconfigure_ms, out.drain_ms, out.shutdown_ms);
  return out;
}

} // namespace daemon_bench
