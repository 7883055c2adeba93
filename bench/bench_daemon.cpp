// bench_daemon — the `daemon` benchmark: preloaded readings drained by the daemon as users run
// it (`telluride pipeline`, default config), compared in the same run with the minimal
// rabbitmq-c consumer on an equal queue of the same broker.
//
//   bench_daemon --url amqp://guest:guest@127.0.0.1:12700/%2f --broker-pid PID
//                --telluride build/bin/telluride --work-dir DIR
//                [--messages 200000] [--sensors 1000] [--sensors-large 10000] [--rounds 3]
//                [--set KEY=JSON]...   (experiments: a daemon config key other than the default)
//
// One daemon run: declare the daemon's topology (telluride::broker_topology) under routes
// with a prefix of their own, preload the readings queue, wait until the broker is idle,
// spawn the daemon (default config + routes + http_listen on a free port + http_token), poll
// GET /metrics until every reading is successful, read the daemon's CPU (/proc/PID/stat),
// peak RSS (VmHWM) and per-thread CPU right then; once everything is acknowledged, time an
// idle reconfiguration (POST /api/config {"processor_concurrency": 3}: round trip and the
// reply's drain_ms); SIGTERM, expect exit 0; read the final throughput message (its
// earliest_raw_time .. last_raw_time give the rate); delete the topology. Baseline: the same
// bodies in an equally declared queue, drained by bench::run_baseline (prefetch 1000, a
// multiple-ack every 100). Rounds at `--sensors` alternate which goes first, and the best
// round of each counts (noise on a shared machine only slows runs down); then one daemon run
// at `--sensors-large`. Progress goes to stderr; the last stdout line is one JSON object
// (bench/run.sh contract) with name "daemon", msgs_per_s, peak_rss_mib, ratio, ...
#include "support/bench_support.hpp"
#include "support/child_process.hpp"
#include "support/command_line.hpp"
#include "support/http_client.hpp"
#include "support/reading_fleet.hpp"

#include "telluride/daemon/startup.hpp"
#include "telluride/domain/config_schema.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace amqp = causeway::amqp;
using namespace std::chrono_literals;
using bench::clock_type;

namespace {

struct settings {
  std::string url = "amqp://guest:guest@127.0.0.1:5672/%2f";
  long broker_pid = 0;
  std::string telluride = "build/bin/telluride";
  std::string work_dir = ".";
  std::size_t messages = 200000;
  std::size_t sensors = 1000;
  std::size_t sensors_large = 10000;
  int rounds = 3;
  std::uint16_t prefetch = 1000;  // the baseline's; the daemon runs its default config
  nlohmann::json daemon_overrides = nlohmann::json::object();  // --set KEY=JSON, for experiments
};

// Targets of the issue.
constexpr double target_ratio = 0.9;
constexpr double target_cpu_s_per_million = 3.5;
constexpr double target_rss_mib_large = 64;
constexpr double target_reconfigure_ms = 100;

// No progress for this long is a failure; slowness never is.
constexpr auto stall_timeout = 120s;

// The daemon of the run in progress: killed by die().
bench::child_process* running_daemon = nullptr;

// Deletes what a run declared; die() runs the ones still registered, so a failed run leaves
// no 200,000-message queue in the broker's data folder.
std::vector<std::function<void()>*> cleanups;

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

settings parse(int argc, char** argv) {
  settings s;
  std::vector<std::string> overrides;
  CLI::App app{"Drains preloaded readings through `telluride pipeline` and through a minimal rabbitmq-c "
               "consumer on the same broker.",
               "bench_daemon"};
  app.add_option("--url", s.url, "broker URL");
  app.add_option("--broker-pid", s.broker_pid, "the broker's pid, for its CPU time")->check(CLI::NonNegativeNumber);
  app.add_option("--telluride", s.telluride, "the telluride program")->check(CLI::ExistingFile);
  app.add_option("--work-dir", s.work_dir, "where the daemons' configs and logs go");
  app.add_option("--messages", s.messages, "readings per drain")->check(bench::multiple_of_100);
  app.add_option("--sensors", s.sensors, "sensors of the rounds")->check(CLI::Range(1, 10'000'000));
  app.add_option("--sensors-large", s.sensors_large, "sensors of the last run")->check(CLI::Range(1, 10'000'000));
  app.add_option("--rounds", s.rounds, "rounds; the best of each side counts")->check(CLI::Range(1, 100));
  app.add_option("--set", overrides, "KEY=JSON: a daemon config key other than the default (experiments)");
  bench::parse_command_line(app, argc, argv, "daemon");
  for (const auto& kv : overrides) {
    auto eq = kv.find('=');
    auto parsed = eq == std::string::npos ? nlohmann::json{} : nlohmann::json::parse(kv.substr(eq + 1), nullptr, false);
    if (eq == std::string::npos || parsed.is_discarded())
      die("--set needs KEY=JSON, got " + kv);
    s.daemon_overrides[kv.substr(0, eq)] = parsed;
  }
  if (::access(s.telluride.c_str(), X_OK) != 0)
    die("no telluride program at " + s.telluride);
  std::error_code ec;
  std::filesystem::create_directories(s.work_dir, ec);
  return s;
}

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

// --- the broker side ----------------------------------------------------------------------------

/// Every name of CONTRACT §2 with `prefix` in front: runs never share a queue or exchange.
telluride::route_names prefixed_routes(const std::string& prefix) {
  telluride::route_names r;
  for (const auto& route : telluride::route_options())
    r.*route.field = prefix + std::string{route.default_name};
  return r;
}

/// The daemon's topology under `prefix`, declared as the daemon declares it; deleted again by
/// the destructor.
class scoped_topology {
public:
  scoped_topology(amqp::connection& admin, const std::string& prefix)
    : admin_(admin), routes_(prefixed_routes(prefix)), spec_(telluride::broker_topology(routes_)) {
    cleanups.push_back(&remove_);
    if (auto declared = amqp::declare(admin_, spec_); !declared)
      die("declaring the daemon's topology: " + declared.err().message);
  }
  ~scoped_topology() { remove_(); }
  scoped_topology(const scoped_topology&) = delete;
  scoped_topology& operator=(const scoped_topology&) = delete;
  const telluride::route_names& routes() const noexcept { return routes_; }

private:
  amqp::connection& admin_;
  telluride::route_names routes_;
  amqp::topology_spec spec_;
  std::function<void()> remove_ = [this] {
    std::erase(cleanups, &remove_);
    for (const auto& q : spec_.queues)
      (void)amqp::delete_queue(admin_, q.name);
    for (const auto& e : spec_.exchanges)
      (void)amqp::delete_exchange(admin_, e.name);
  };
};

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
}

// --- the baseline ---------------------------------------------------------------------------------

double per_1000(std::uint64_t n, std::size_t messages) {
  return static_cast<double>(n) * 1000.0 / static_cast<double>(messages);
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
               "  rabbitmq-c consumer: %.0f msgs/s, client %.2f CPU-s/M, broker %.2f CPU-s/100k, %.0f TCP segments "
               "per 1000, broker waits %.0f and preemptions %.1f per 1000\n",
               drained->msgs_per_s, drained->client_cpu_s * 1e6 / static_cast<double>(s.messages),
               drained->broker_cpu_s * 1e5 / static_cast<double>(s.messages), segments_per_1000,
               per_1000(broker_switches.voluntary - broker_switches_before.voluntary, s.messages),
               per_1000(broker_switches.involuntary - broker_switches_before.involuntary, s.messages));
  return *drained;
}

// --- the daemon ---------------------------------------------------------------------------------

struct daemon_result {
  std::size_t sensors = 0;
  long pid = 0;
  double msgs_per_s = 0;       // total / (last_raw_time - earliest_raw_time)
  double wall_s = 0;           // spawn → every reading successful
  double cpu_s = 0;            // the daemon's utime + stime at that moment, start-up included
  double startup_cpu_s = 0;    // its main thread's share: start-up, then it waits for a signal
  double peak_rss_mib = 0;     // VmHWM at that moment
  double broker_cpu_s = 0;     // spawn → done
  double reconfigure_ms = 0;   // POST /api/config round trip, idle
  double drain_ms = 0;         // the reply's drain_ms
  double shutdown_ms = 0;      // SIGTERM → exit
  std::vector<bench::thread_cpu> threads;  // at done
  std::uint64_t throughput_messages = 0;   // messages found on the throughput route
  double readings_per_ack_frame = 0;       // from /metrics at done
  std::string stage_batches;               // messages per call of each stage kind, at done
  double tcp_segments_per_1000 = 0;        // machine-wide TCP segments sent, spawn → done
  double broker_waits_per_1000 = 0;        // the broker's threads, spawn → done
  double broker_preemptions_per_1000 = 0;
  double mean_in_flight = 0;               // telluride_in_flight sampled while draining
  double median_in_flight = 0;
};

double cpu_per_million(double cpu_s, std::size_t messages) { return cpu_s * 1e6 / static_cast<double>(messages); }

std::string write_daemon_config(const settings& s, const telluride::route_names& routes, std::uint16_t port,
                                const std::string& token, const std::string& tag) {
  auto cfg = telluride::to_json(telluride::config{}, telluride::secrets::shown);  // every default
  cfg["amqp_url"] = s.url;
  cfg["http_listen"] = "127.0.0.1:" + std::to_string(port);
  cfg["http_token"] = token;
  auto names = nlohmann::json::object();
  for (const auto& route : telluride::route_options())
    names[std::string{route.key}] = routes.*route.field;
  cfg["routes"] = names;
  for (const auto& [key, value] : s.daemon_overrides.items())
    cfg[key] = value;
  auto path = (std::filesystem::path{s.work_dir} / ("daemon-" + tag + ".json")).string();
  std::ofstream{path} << cfg.dump(2) << '\n';
  if (auto loaded = telluride::load_config_file(path); !loaded)
    die("the benchmark wrote a bad daemon config: " + loaded.err().message);
  return path;
}

std::string metrics_text(std::uint16_t port) {
  bench::http_call call;
  call.path = "/metrics";
  call.timeout = 5s;
  auto reply = bench::http_request(port, call);
  return reply && reply->status == 200 ? reply->body : std::string{};
}

/// Polls /metrics until `metric` reaches `target`; dies when the daemon ends or nothing
/// moves for stall_timeout. Polls slowly at first (each poll costs the daemon CPU), then fast
/// near the end, so the moment of completion is seen within ~10 ms.
/// `on_sample` sees every /metrics text read (for gauges sampled along the way).
void wait_for_metric(bench::child_process& daemon, std::uint16_t port, const std::string& metric, double target,
                     const std::function<void(const std::string&)>& on_sample = {}) {
  double seen = -1;
  auto last_progress = clock_type::now();
  for (;;) {
    if (auto ended = daemon.wait(0ms))
      die("the daemon ended early (" + bench::describe_status(*ended) + ") waiting for " + metric);
    auto text = metrics_text(port);
    if (!text.empty()) {
      if (auto failed = bench::prometheus_value(text, "telluride_readings_total{outcome=\"failed\"}"); failed > 0)
        die(std::to_string(static_cast<long long>(failed)) + " readings failed in the daemon: the benchmark's readings are wrong");
      double value = bench::prometheus_value(text, metric);
      if (value >= target)
        return;
      if (on_sample && value > 0)
        on_sample(text);
      if (value > seen) {
        seen = value;
        last_progress = clock_type::now();
      }
    }
    if (clock_type::now() - last_progress > stall_timeout)
      die("no progress for " + std::to_string(stall_timeout.count()) + " s waiting for " + metric + " (at " +
          std::to_string(static_cast<long long>(seen)) + " of " + std::to_string(static_cast<long long>(target)) + ")");
    std::this_thread::sleep_for(seen >= 0.9 * target ? 10ms : 100ms);
  }
}

/// Ack coalescing and the stages' messages per call, from a /metrics text; the text is kept
/// in the work dir (metrics-TAG.txt) for a closer look.
void describe_metrics(daemon_result& out, const std::string& text, const std::string& work_dir, const std::string& tag) {
  std::ofstream{std::filesystem::path{work_dir} / ("metrics-" + tag + ".txt")} << text;
  auto frames = bench::prometheus_value(text, "telluride_amqp_ack_frames_total");
  auto acked = bench::prometheus_value(text, "telluride_amqp_acked_total");
  out.readings_per_ack_frame = frames > 0 ? acked / frames : 0;
  // telluride_stage_calls_total{node_type="processor",name="default",partition="0"} 123
  std::map<std::string, std::pair<double, double>> kinds;  // node_type → (calls, messages)
  std::istringstream lines(text);
  std::string line;
  const std::string node_type = "{node_type=\"";
  while (std::getline(lines, line)) {
    bool calls = line.starts_with("telluride_stage_calls_total{");
    bool messages = line.starts_with("telluride_stage_messages_total{");
    auto at = line.find(node_type);
    if ((!calls && !messages) || at == std::string::npos)
      continue;
    auto kind = line.substr(at + node_type.size(), line.find('"', at + node_type.size()) - at - node_type.size());
    double value = std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    (calls ? kinds[kind].first : kinds[kind].second) += value;
  }
  out.stage_batches.clear();
  for (const auto& [kind, counts] : kinds) {
    char text_value[64];
    std::snprintf(text_value, sizeof text_value, "%s%s %.1f", out.stage_batches.empty() ? "" : ", ", kind.c_str(),
                  counts.first > 0 ? counts.second / counts.first : 0.0);
    out.stage_batches += text_value;
  }
}

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

daemon_result run_daemon(const settings& s, amqp::connection& admin, std::size_t sensors, const std::string& tag) {
  daemon_result out;
  out.sensors = sensors;
  scoped_topology topology{admin, "bench_daemon_" + std::to_string(::getpid()) + "_" + tag + "_"};
  const auto& routes = topology.routes();
  preload_readings(s, bench::reading_fleet{sensors}, routes.readings_queue, tag + "-");
  bench::wait_until_broker_idle(s.broker_pid);

  auto port = bench::free_local_port();
  if (port == 0)
    die("no free local TCP port for the daemon's HTTP");
  const std::string token = "bench-" + std::to_string(::getpid()) + "-" + tag;
  auto config_path = write_daemon_config(s, routes, port, token, tag);
  auto log_path = (std::filesystem::path{s.work_dir} / ("daemon-" + tag + ".log")).string();
  std::filesystem::remove(log_path);

  double broker_before = bench::process_cpu_seconds(s.broker_pid);
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

  // In flight while draining: near prefetch_count, the broker waits for the daemon's acks.
  std::vector<double> in_flight;
  wait_for_metric(daemon, port, "telluride_readings_total{outcome=\"successful\"}", static_cast<double>(s.messages),
                  [&](const std::string& text) {
                    if (auto n = bench::prometheus_value(text, "telluride_in_flight"); n >= 0)
                      in_flight.push_back(n);
                  });
  out.wall_s = seconds_since(started);
  out.cpu_s = bench::process_cpu_seconds(pid);
  out.peak_rss_mib = bench::process_peak_rss_mib(pid);
  out.threads = bench::process_threads(pid);
  out.broker_cpu_s = bench::process_cpu_seconds(s.broker_pid) - broker_before;
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
  std::fprintf(stderr,
               "  daemon, %zu sensors: %.0f msgs/s (%.0f by wall time, %.2f s), %.2f CPU-s/M (start-up %.3f s), "
               "peak RSS %.1f MiB, broker %.2f CPU-s/100k, %.0f TCP segments per 1000, broker waits %.0f and preemptions %.1f "
               "per 1000, reconfigure %.1f ms (drain %.0f ms), shutdown %.0f ms\n",
               sensors, out.msgs_per_s, static_cast<double>(s.messages) / out.wall_s, out.wall_s,
               cpu_per_million(out.cpu_s, s.messages), out.startup_cpu_s, out.peak_rss_mib,
               out.broker_cpu_s * 1e5 / static_cast<double>(s.messages), out.tcp_segments_per_1000,
               out.broker_waits_per_1000, out.broker_preemptions_per_1000, out.reconfigure_ms, out.drain_ms,
               out.shutdown_ms);
  return out;
}

// --- the report ------------------------------------------------------------------------------------

/// Thread labels, in creation order. The names the daemon's threads have are ambiguous, so
/// known ones are translated: CAF 0.17 names its scheduler workers "caf.multiplexer" (their
/// stacks show worker<work_stealing>::run), "caf.actor" is a detached actor's thread, the
/// HTTP server's thread keeps the program's name, and both AMQP connection threads are
/// "amqp-telluride-" (the name is cut at 15 characters): connect_broker opens the
/// publisher's connection before the consumer's. Unknown names are shown as they are.
std::vector<std::pair<std::string, double>> labelled_threads(const daemon_result& r) {
  std::map<std::string, int> count, seen;
  for (const auto& t : r.threads)
    if (t.tid != r.pid)
      ++count[t.name];
  std::vector<std::pair<std::string, double>> out;
  for (const auto& t : r.threads) {
    std::string label;
    int k = t.tid == r.pid ? 0 : seen[t.name]++;
    if (t.tid == r.pid)
      label = "main";
    else if (t.name == "amqp-telluride-" && count[t.name] == 2)
      label = k == 0 ? "amqp_publisher" : "amqp_consumer";
    else if (t.name == "caf.multiplexer")
      label = "caf_worker#" + std::to_string(k);
    else if (t.name == "caf.clock" && count[t.name] == 1)
      label = "caf_clock";
    else if (t.name == "caf.actor" && count[t.name] == 1)
      label = "caf_detached";
    else if (t.name == "telluride" && count[t.name] == 1)
      label = "http";
    else
      label = count[t.name] > 1 ? t.name + "#" + std::to_string(k) : t.name;
    out.emplace_back(label, t.cpu_s);
  }
  return out;
}

void print_threads(const settings& s, const daemon_result& r) {
  double listed = 0;
  std::printf("daemon threads at %zu sensors, in creation order: CPU-s per million readings (user/system share), "
              "blocking waits and preemptions per 1000 readings\n",
              r.sensors);
  auto labels = labelled_threads(r);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& t = r.threads[i];
    listed += t.cpu_s;
    double ticks = t.user_s + t.system_s;
    std::printf("  %-18s %6.3f  (%3.0f%% / %3.0f%%)  waits %7.1f  preempted %6.1f\n", labels[i].first.c_str(),
                cpu_per_million(t.cpu_s, s.messages), ticks > 0 ? 100 * t.user_s / ticks : 0.0,
                ticks > 0 ? 100 * t.system_s / ticks : 0.0, per_1000(t.voluntary_switches, s.messages),
                per_1000(t.involuntary_switches, s.messages));
  }
  std::printf("  %-18s %6.3f\n", "(ended threads)", cpu_per_million(std::max(0.0, r.cpu_s - listed), s.messages));
  std::printf("  %.0f readings per ack frame; readings per call: %s; in flight while draining: mean %.0f, median %.0f\n",
              r.readings_per_ack_frame, r.stage_batches.c_str(), r.mean_in_flight, r.median_in_flight);
}

nlohmann::json threads_json(const settings& s, const daemon_result& r) {
  auto out = nlohmann::json::object();
  for (const auto& [label, cpu] : labelled_threads(r))
    out[label] = std::round(cpu_per_million(cpu, s.messages) * 1000) / 1000;
  return out;
}

// Rounded to `decimals` places, so that the JSON shows 1.15 rather than 1.1500000000000001.
double round_to(double value, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

} // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  settings s = parse(argc, argv);
  amqp::connection_options admin_options;
  admin_options.url = s.url;
  admin_options.name = "bench-admin";
  auto admin = amqp::connection::open(admin_options);
  if (!admin)
    die(admin.err().message);

  bench::reading_fleet fleet{s.sensors};
  std::vector<bench::drain_result> baselines;
  std::vector<daemon_result> daemons;
  for (int round = 0; round < s.rounds; ++round) {
    std::fprintf(stderr, "round %d of %d: %zu readings of %zu sensors per drain\n", round + 1, s.rounds, s.messages,
                 s.sensors);
    std::string tag = "r";
    tag += std::to_string(round + 1);
    auto baseline = [&] { baselines.push_back(drain_baseline(s, **admin, fleet, tag + "_baseline")); };
    auto daemon = [&] { daemons.push_back(run_daemon(s, **admin, s.sensors, tag + "_s" + std::to_string(s.sensors))); };
    if (round % 2 == 0) {
      baseline();
      daemon();
    } else {
      daemon();
      baseline();
    }
  }
  std::fprintf(stderr, "one daemon run with %zu sensors\n", s.sensors_large);
  auto large = run_daemon(s, **admin, s.sensors_large, "large_s" + std::to_string(s.sensors_large));

  auto best_daemon = *std::max_element(daemons.begin(), daemons.end(), [](const auto& a, const auto& b) {
    return a.msgs_per_s < b.msgs_per_s;
  });
  auto best_baseline = *std::max_element(baselines.begin(), baselines.end(), [](const auto& a, const auto& b) {
    return a.msgs_per_s < b.msgs_per_s;
  });
  const double ratio = best_daemon.msgs_per_s / best_baseline.msgs_per_s;
  const double cpu_m = cpu_per_million(best_daemon.cpu_s, s.messages);
  const double cpu_m_large = cpu_per_million(large.cpu_s, s.messages);
  const double reconfigure_ms = std::max(best_daemon.reconfigure_ms, large.reconfigure_ms);
  auto per_100k = [&](double cpu) { return cpu * 1e5 / static_cast<double>(s.messages); };

  std::printf("readings            %zu per drain, persistent, %zu and %zu sensors; best of %d rounds at %zu\n",
              s.messages, s.sensors, s.sensors_large, s.rounds, s.sensors);
  if (!s.daemon_overrides.empty())
    std::printf("daemon config       default, except %s\n", s.daemon_overrides.dump().c_str());
  std::printf("rabbitmq-c consumer %8.0f msgs/s  client %.2f CPU-s/M  broker %.2f CPU-s/100k\n",
              best_baseline.msgs_per_s, cpu_per_million(best_baseline.client_cpu_s, s.messages),
              per_100k(best_baseline.broker_cpu_s));
  for (const auto* r : {&best_daemon, &large})
    std::printf("daemon %6zu sensors %8.0f msgs/s  (%.0f by wall time)  %.2f CPU-s/M  peak RSS %.1f MiB  broker %.2f "
                "CPU-s/100k  reconfigure %.1f ms (drain %.0f ms)\n",
                r->sensors, r->msgs_per_s, static_cast<double>(s.messages) / r->wall_s,
                cpu_per_million(r->cpu_s, s.messages), r->peak_rss_mib, per_100k(r->broker_cpu_s), r->reconfigure_ms,
                r->drain_ms);
  // Broker and consumer share two cores with everything else on the machine: when they are
  // saturated, the rates are in the inverse ratio of broker + consumer CPU per reading.
  const double baseline_us = (best_baseline.broker_cpu_s + best_baseline.client_cpu_s) * 1e6 / static_cast<double>(s.messages);
  const double daemon_us = (best_daemon.broker_cpu_s + best_daemon.cpu_s) * 1e6 / static_cast<double>(s.messages);
  const double cpu_bound_ratio = baseline_us / daemon_us;
  std::printf("CPU per reading     rabbitmq-c: broker %.1f + client %.1f = %.1f us; daemon: broker %.1f + daemon %.1f = "
              "%.1f us; on saturated cores that predicts ratio %.3f\n",
              best_baseline.broker_cpu_s * 1e6 / static_cast<double>(s.messages),
              best_baseline.client_cpu_s * 1e6 / static_cast<double>(s.messages), baseline_us,
              best_daemon.broker_cpu_s * 1e6 / static_cast<double>(s.messages), cpu_m, daemon_us, cpu_bound_ratio);
  std::printf("ratio               %.3f (target >= %.2f)\n", ratio, target_ratio);
  // The issue's CPU target is for the default run (1,000 sensors); the 10,000-sensor run is
  // held to the same figure for information only (it publishes ten times the aggregates).
  std::printf("targets             ratio %s, CPU-s/M %s (<= %.1f; at %zu sensors %s), RSS at %zu sensors %s "
              "(<= %.0f MiB), reconfigure %s (<= %.0f ms)\n",
              ratio >= target_ratio ? "met" : "MISSED",
              cpu_m <= target_cpu_s_per_million ? "met" : "MISSED", target_cpu_s_per_million, s.sensors_large,
              cpu_m_large <= target_cpu_s_per_million ? "within it too" : "above it",
              s.sensors_large, large.peak_rss_mib <= target_rss_mib_large ? "met" : "MISSED", target_rss_mib_large,
              reconfigure_ms <= target_reconfigure_ms ? "met" : "MISSED", target_reconfigure_ms);
  print_threads(s, best_daemon);
  print_threads(s, large);

  nlohmann::json report{
    {"name", "daemon"},
    {"msgs_per_s", round_to(best_daemon.msgs_per_s, 0)},
    {"peak_rss_mib", round_to(best_daemon.peak_rss_mib, 1)},
    {"ratio", round_to(ratio, 3)},
    {"baseline_msgs_per_s", round_to(best_baseline.msgs_per_s, 0)},
    {"cpu_s_per_million", round_to(cpu_m, 3)},
    {"msgs_per_s_10k", round_to(large.msgs_per_s, 0)},
    {"cpu_s_per_million_10k", round_to(cpu_m_large, 3)},
    {"peak_rss_mib_10k", round_to(large.peak_rss_mib, 1)},
    {"reconfigure_ms", round_to(best_daemon.reconfigure_ms, 1)},
    {"drain_ms", best_daemon.drain_ms},
    {"reconfigure_ms_10k", round_to(large.reconfigure_ms, 1)},
    {"drain_ms_10k", large.drain_ms},
    {"wall_s", round_to(best_daemon.wall_s, 3)},
    {"wall_s_10k", round_to(large.wall_s, 3)},
    {"wall_msgs_per_s", round_to(static_cast<double>(s.messages) / best_daemon.wall_s, 0)},
    {"wall_msgs_per_s_10k", round_to(static_cast<double>(s.messages) / large.wall_s, 0)},
    {"startup_cpu_s", round_to(best_daemon.startup_cpu_s, 3)},
    {"shutdown_ms", round_to(best_daemon.shutdown_ms, 0)},
    {"broker_cpu_s_per_100k", round_to(per_100k(best_daemon.broker_cpu_s), 3)},
    {"broker_cpu_s_per_100k_10k", round_to(per_100k(large.broker_cpu_s), 3)},
    {"baseline_broker_cpu_s_per_100k", round_to(per_100k(best_baseline.broker_cpu_s), 3)},
    {"baseline_client_cpu_s_per_million", round_to(cpu_per_million(best_baseline.client_cpu_s, s.messages), 3)},
    {"cpu_bound_ratio", round_to(cpu_bound_ratio, 3)},
    {"readings_per_ack_frame", round_to(best_daemon.readings_per_ack_frame, 1)},
    {"mean_in_flight", round_to(best_daemon.mean_in_flight, 0)},
    {"mean_in_flight_10k", round_to(large.mean_in_flight, 0)},
    {"threads_cpu_s_per_million", threads_json(s, best_daemon)},
    {"threads_cpu_s_per_million_10k", threads_json(s, large)},
    {"targets_met",
     {{"ratio", ratio >= target_ratio},
      {"cpu_s_per_million", cpu_m <= target_cpu_s_per_million},
      {"cpu_s_per_million_10k", cpu_m_large <= target_cpu_s_per_million},
      {"peak_rss_mib_10k", large.peak_rss_mib <= target_rss_mib_large},
      {"reconfigure_ms", reconfigure_ms <= target_reconfigure_ms}}},
    {"messages", s.messages},
    {"sensors", s.sensors},
    {"sensors_10k", s.sensors_large},
    {"rounds", s.rounds},
  };
  if (!s.daemon_overrides.empty())
    report["daemon_overrides"] = s.daemon_overrides;
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
