// bench_shards — the `shards` benchmark: 1, 2 and 3 daemons on one broker drain the same
// readings with `shards: 12` (CONTRACT §7; docs/scaling.md).
//
//   bench_shards --url amqp://guest:guest@127.0.0.1:12710/%2f --broker-pid PID
//                --telluride build/bin/telluride --work-dir DIR
//                [--messages 300000] [--sensors 2000] [--shards 12] [--daemons 1,2,3]
//
// One run per daemon count N: declare the daemons' topology (telluride::broker_topology, every
// route under a prefix of its own, durable mode, a state stream of its own), preload the
// readings through the consistent-hash exchange (each with its `sensor_key` header, as
// `telluride sensors` publishes them), start N daemons at once (node names bench-1..N, one
// config), and wait until every shard queue is empty and no daemon holds a reading. It
// reports the rate (readings / wall time from the start of the daemons, their start-up and the
// first sharing of the shards included), the CPU of every daemon per reading it handled, and
// the broker's CPU per reading. Then, with N > 1, the handover after a kill -9: a second batch
// (a tenth of the readings) is preloaded while the N daemons run, the last daemon is killed
// when a third of the batch was taken, and the survivors' GET /api/shards is polled until each
// of its shards is active on one of them; the queue of each is then watched until it holds
// fewer ready readings than at the kill (its new owner consumes). The figures: kill → active
// (the heartbeat lapse, the claim and the restore) and kill → consuming, per shard (max and
// median). On 2 cores more daemons cannot drain faster; what this shows is that the CPU per
// reading stays flat as daemons are added.
// Progress goes to stderr; the last stdout line is one JSON object (bench/run.sh contract).
#include "daemon/daemon_setup.hpp"
#include "support/bench_support.hpp"
#include "support/child_process.hpp"
#include "support/command_line.hpp"
#include "support/http_client.hpp"
#include "support/queue_collection.hpp"
#include "support/reading_fleet.hpp"

#include "telluride/domain/sensor_key.hpp"

#include <causeway/amqp/topology_declaration.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
  std::size_t messages = 300000;
  std::size_t sensors = 2000;
  std::uint32_t shards = 12;
  std::vector<int> daemons = {1, 2, 3};
  std::string broker_ctl;      // the private broker's deploy/rabbitmq-local.sh (empty: none)
  bool collect_queues = true;  // with broker_ctl: the shard queues' processes are collected first
};

constexpr auto stall_timeout = 180s;

// What die() must undo: the daemons running, the topology declared.
std::vector<bench::child_process*> running;
std::function<void()> cleanup;

[[noreturn]] void die(const std::string& why) {
  for (auto* daemon : running) {
    std::fprintf(stderr, "bench_shards: daemon %d's log ends with:\n%s", daemon->pid(), daemon->log_tail().c_str());
    daemon->signal(SIGKILL);
    (void)daemon->wait(10s);
  }
  if (cleanup)
    cleanup();
  std::fprintf(stderr, "bench_shards: %s\n", why.c_str());
  std::printf("%s\n", nlohmann::json{{"name", "shards"}, {"error", why}}.dump().c_str());
  std::exit(1);
}

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::string get(std::uint16_t port, const std::string& path) {
  bench::http_call call;
  call.path = path;
  call.timeout = 5s;
  auto reply = bench::http_request(port, call);
  return reply && reply->status == 200 ? reply->body : std::string{};
}

/// A daemon of the run: its process and where it serves HTTP.
struct member {
  std::string node;
  std::uint16_t port = 0;
  std::unique_ptr<bench::child_process> process;
  double cpu_s = 0;
  double handled = 0;  ///< telluride_amqp_acked_total at the end
};

/// The readings of `fleet` through the readings exchange, each with its sensor_key header.
void preload(const settings& s, const telluride::config& cfg, const bench::reading_fleet& fleet, std::size_t count,
             const std::string& id_prefix) {
  bench::preload_options options;
  options.url = s.url;
  options.exchange = cfg.routes.exchange;
  options.routing_key = cfg.routes.readings_routing_key;
  options.messages = count;
  auto loaded = bench::preload(options, [&](std::size_t i, amqp::outgoing_message& msg) {
    fleet.fill(i, id_prefix, msg);
    const std::size_t n = i % fleet.size();  // reading_fleet's ids (reading_fleet.hpp)
    const auto id = [](std::size_t v) { return telluride::json_id{static_cast<std::int64_t>(v)}; };
    msg.properties.headers.push_back({std::string(telluride::sensor_key_header),
                                      telluride::sensor_key_text({id(n / 100 + 1), id(n / 10 + 1), id(n + 1)})});
  });
  if (!loaded)
    die(loaded.err().message);
}

/// Has the broker garbage-collect every shard queue's process before the drain
/// (support/queue_collection.hpp), so that the drains of 1, 2 and 3 daemons start from the same
/// broker state. False, with one line on stderr, when that was not done.
bool collect_shard_queues(const settings& s, const telluride::config& cfg) {
  if (s.broker_ctl.empty() || !s.collect_queues)
    return false;
  std::vector<std::string> queues;
  for (std::uint32_t shard = 0; shard < cfg.shards; ++shard)
    queues.push_back(cfg.routes.readings_queue + "." + std::to_string(shard));
  const auto log = (std::filesystem::path{s.work_dir} / "broker-ctl.log").string();
  if (auto collected = bench::collect_queue_processes(s.broker_ctl, log, queues); !collected) {
    std::fprintf(stderr, "  the shard queues' processes were not garbage-collected before the drain: %s\n",
                 collected.err().message.c_str());
    return false;
  }
  return true;
}

/// Ready readings of every shard queue (a passive declare each).
std::vector<std::uint32_t> ready_per_shard(amqp::connection& admin, const telluride::config& cfg) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t shard = 0; shard < cfg.shards; ++shard) {
    auto state = amqp::inspect_queue(admin, cfg.routes.readings_queue + "." + std::to_string(shard));
    if (!state)
      die(state.err().message);
    out.push_back(state->messages_ready);
  }
  return out;
}

/// Waits until no shard queue holds a ready reading and no live daemon holds one in flight or
/// unacknowledged behind a checkpoint.
void wait_until_drained(amqp::connection& admin, const telluride::config& cfg, std::vector<member>& members) {
  std::uint64_t last_total = ~std::uint64_t{0};
  auto last_progress = clock_type::now();
  for (;;) {
    std::uint64_t total = 0;
    for (auto n : ready_per_shard(admin, cfg))
      total += n;
    bool is_idle = total == 0;
    for (auto& m : members) {
      if (!m.process)
        continue;
      if (auto ended = m.process->wait(0ms))
        die(m.node + " ended early (" + bench::describe_status(*ended) + ")");
      const auto text = get(m.port, "/metrics");
      is_idle = is_idle && !text.empty() && bench::prometheus_value(text, "telluride_in_flight") == 0 &&
                bench::prometheus_value(text, "telluride_checkpoint_held") <= 0;
    }
    if (is_idle)
      return;
    if (total < last_total) {
      last_total = total;
      last_progress = clock_type::now();
    }
    if (clock_type::now() - last_progress > stall_timeout)
      die("no progress for " + std::to_string(stall_timeout.count()) + " s (" + std::to_string(total) +
          " readings still ready in the shard queues)");
    std::this_thread::sleep_for(20ms);
  }
}

/// Shard → owner, as daemon `m` reports it in GET /api/shards, for the shards it calls active.
std::map<std::uint32_t, std::string> active_shards(const member& m) {
  std::map<std::uint32_t, std::string> out;
  auto doc = nlohmann::json::parse(get(m.port, "/api/shards"), nullptr, false);
  if (!doc.is_object() || !doc.contains("shards") || !doc["shards"].is_array())
    return out;
  for (const auto& shard : doc["shards"])
    if (shard.value("state", "") == "active" && shard.value("owner", "") == doc.value("node", ""))
      out[shard.value("shard", 0u)] = doc.value("node", "");
  return out;
}

void start_members(const settings& s, const telluride::config& cfg, int count, std::vector<member>& members,
                   const std::string& tag) {
  for (int i = 1; i <= count; ++i) {
    member m;
    m.node = "bench-" + std::to_string(i);
    m.port = bench::free_local_port();
    if (m.port == 0)
      die("no free local TCP port");
    const auto base = (std::filesystem::path{s.work_dir} / (tag + "-" + m.node)).string();
    if (auto written = daemon_bench::write_daemon_config(cfg, {s.url, m.port, "bench-shards", {}}, base + ".json");
        !written)
      die(written.err().message);
    auto spawned = bench::child_process::spawn(
      {s.telluride, "pipeline", "--config", base + ".json", "--amqp", s.url, "--node", m.node}, base + ".log");
    if (!spawned)
      die(spawned.err().message);
    m.process = std::make_unique<bench::child_process>(std::move(*spawned));
    running.push_back(m.process.get());
    members.push_back(std::move(m));
  }
}

void stop_members(std::vector<member>& members) {
  for (auto& m : members) {
    if (!m.process)
      continue;
    m.process->signal(SIGTERM);
    auto status = m.process->wait(120s);
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
      die(m.node + " did not exit 0 within 120 s of SIGTERM");
    std::erase(running, m.process.get());
    m.process.reset();
  }
}

struct handover {
  std::vector<double> active_ms;     ///< per shard of the killed daemon: kill → active on a survivor
  std::vector<double> consuming_ms;  ///< kill → its queue holds fewer ready readings than at the kill
};

/// Kills the last member once a third of `batch` readings left the queues; times its shards'
/// handover to the survivors.
handover kill_one(amqp::connection& admin, const telluride::config& cfg, std::vector<member>& members,
                  std::size_t batch) {
  member& victim = members.back();
  const auto owned = active_shards(victim);
  if (owned.empty())
    die(victim.node + " owns no shard to hand over");
  for (auto started = clock_type::now();;) {
    std::uint64_t ready = 0;
    for (auto n : ready_per_shard(admin, cfg))
      ready += n;
    if (ready <= batch * 2 / 3)
      break;
    if (clock_type::now() - started > stall_timeout)
      die("the second batch is not being consumed");
    std::this_thread::sleep_for(5ms);
  }
  victim.process->signal(SIGKILL);
  const auto killed = clock_type::now();
  (void)victim.process->wait(10s);
  std::erase(running, victim.process.get());
  victim.process.reset();
  const auto at_kill = ready_per_shard(admin, cfg);

  handover out;
  std::map<std::uint32_t, bool> is_active;
  std::map<std::uint32_t, bool> is_consuming;
  while (out.consuming_ms.size() < owned.size()) {
    if (seconds_since(killed) > stall_timeout.count())
      die("the killed daemon's shards were not taken over within " + std::to_string(stall_timeout.count()) + " s");
    std::map<std::uint32_t, std::string> now_active;
    for (auto& m : members)
      if (m.process)
        now_active.merge(active_shards(m));
    const auto ready = ready_per_shard(admin, cfg);
    for (const auto& [shard, _] : owned) {
      if (!is_active[shard] && now_active.contains(shard)) {
        is_active[shard] = true;
        out.active_ms.push_back(seconds_since(killed) * 1000);
      }
      // Its new owner took readings: fewer ready than at the kill (the killed daemon's
      // unacknowledged ones came back on top of those), or none left.
      if (is_active[shard] && !is_consuming[shard] && (ready[shard] < at_kill[shard] || ready[shard] == 0)) {
        is_consuming[shard] = true;
        out.consuming_ms.push_back(seconds_since(killed) * 1000);
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  return out;
}

nlohmann::json run_cluster(const settings& s, amqp::connection& admin, int daemons) {
  const std::string tag = "n" + std::to_string(daemons);
  const std::string prefix = "bench_shards_" + std::to_string(::getpid()) + "_" + tag + "_";
  const auto cfg = daemon_bench::config_under(prefix, telluride::state_mode::durable, s.shards);
  const auto spec = daemon_bench::topology_of(cfg);
  cleanup = [&admin, spec] { daemon_bench::delete_topology(admin, spec); };
  if (auto declared = amqp::declare(admin, spec); !declared)
    die("declaring the daemons' topology: " + declared.err().message);

  const bench::reading_fleet fleet{s.sensors};
  std::fprintf(stderr, "%d daemon(s), %u shards: preloading %zu readings of %zu sensors\n", daemons, s.shards,
               s.messages, s.sensors);
  preload(s, cfg, fleet, s.messages, tag + "-");
  const bool collected = collect_shard_queues(s, cfg);
  bench::wait_until_broker_idle(s.broker_pid);

  std::vector<member> members;
  const double broker_before = bench::process_cpu_seconds(s.broker_pid);
  const auto started = clock_type::now();
  start_members(s, cfg, daemons, members, tag);
  wait_until_drained(admin, cfg, members);
  const double wall_s = seconds_since(started);
  const double broker_cpu_s = bench::process_cpu_seconds(s.broker_pid) - broker_before;

  nlohmann::json out{{"daemons", daemons}, {"msgs_per_s", static_cast<double>(s.messages) / wall_s}, {"wall_s", wall_s},
                     {"queues_collected", collected}};
  double cpu_total = 0;
  auto per_daemon = nlohmann::json::array();
  for (auto& m : members) {
    m.cpu_s = bench::process_cpu_seconds(m.process->pid());
    m.handled = bench::prometheus_value(get(m.port, "/metrics"), "telluride_amqp_acked_total");
    cpu_total += m.cpu_s;
    per_daemon.push_back({{"node", m.node},
                          {"shards", active_shards(m).size()},
                          {"readings", m.handled},
                          {"cpu_s_per_million", m.handled > 0 ? m.cpu_s * 1e6 / m.handled : 0.0}});
  }
  out["per_daemon"] = per_daemon;
  out["cpu_s_per_million"] = cpu_total * 1e6 / static_cast<double>(s.messages);
  out["broker_cpu_s_per_100k"] = broker_cpu_s * 1e5 / static_cast<double>(s.messages);
  std::fprintf(stderr, "  %d daemon(s): %.0f readings/s over %.1f s, %.2f CPU-s per million readings (all daemons), "
               "broker %.2f CPU-s per 100k\n",
               daemons, static_cast<double>(s.messages) / wall_s, wall_s, out["cpu_s_per_million"].get<double>(),
               out["broker_cpu_s_per_100k"].get<double>());

  if (daemons > 1) {
    const std::size_t batch = s.messages / 10;
    std::thread second([&] { preload(s, cfg, fleet, batch, tag + "-b-"); });
    std::this_thread::sleep_for(200ms);
    const handover h = kill_one(admin, cfg, members, batch);
    second.join();
    wait_until_drained(admin, cfg, members);
    out["handover_active_ms_max"] = *std::max_element(h.active_ms.begin(), h.active_ms.end());
    out["handover_active_ms_median"] = bench::median(h.active_ms);
    out["handover_consuming_ms_max"] = *std::max_element(h.consuming_ms.begin(), h.consuming_ms.end());
    out["handover_consuming_ms_median"] = bench::median(h.consuming_ms);
    out["handover_shards"] = h.active_ms.size();
    std::fprintf(stderr, "  kill -9 of 1 of %d: its %zu shards active elsewhere after %.0f ms (max; median %.0f), "
                 "consumed again after %.0f ms (max; median %.0f)\n",
                 daemons, h.active_ms.size(), out["handover_active_ms_max"].get<double>(),
                 out["handover_active_ms_median"].get<double>(), out["handover_consuming_ms_max"].get<double>(),
                 out["handover_consuming_ms_median"].get<double>());
  }
  stop_members(members);
  cleanup();
  cleanup = nullptr;
  return out;
}

settings parse(int argc, char** argv) {
  settings s;
  std::string daemons = "1,2,3";
  CLI::App app{"Drains the same readings with 1, 2 and 3 daemons sharing the shards of one broker.", "bench_shards"};
  bench::last_one_wins(app);
  app.add_option("--url", s.url, "broker URL");
  app.add_option("--broker-pid", s.broker_pid, "the broker's pid, for its CPU time")->check(CLI::NonNegativeNumber);
  app.add_option("--telluride", s.telluride, "the telluride program")->check(CLI::ExistingFile);
  app.add_option("--work-dir", s.work_dir, "where the daemons' configs and logs go");
  app.add_option("--messages", s.messages, "readings per run")->check(bench::multiple_of_100);
  app.add_option("--sensors", s.sensors, "sensors")->check(CLI::Range(1, 1'000'000));
  app.add_option("--shards", s.shards, "shards")->check(CLI::Range(2, 1024));
  app.add_option("--daemons", daemons, "daemon counts, comma-separated (1..9 each)");
  bench::add_queue_collection_flags(app, s.broker_ctl, s.collect_queues, "the shard queues");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  s.daemons.clear();
  std::stringstream list{daemons};
  for (std::string item; std::getline(list, item, ',');) {
    if (item.size() != 1 || item[0] < '1' || item[0] > '9') {
      std::fprintf(stderr, "bench_shards: --daemons takes counts 1..9 separated by commas, got \"%s\"\n", daemons.c_str());
      std::exit(2);
    }
    s.daemons.push_back(item[0] - '0');
  }
  return s;
}

} // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const settings s = parse(argc, argv);
  std::filesystem::create_directories(s.work_dir);
  amqp::connection_options admin_options;
  admin_options.url = s.url;
  admin_options.name = "bench-shards-admin";
  auto admin = amqp::connection::open(admin_options);
  if (!admin)
    die(admin.err().message);

  auto runs = nlohmann::json::array();
  for (int n : s.daemons)
    runs.push_back(run_cluster(s, **admin, n));

  nlohmann::json report{{"name", "shards"}, {"messages", s.messages}, {"sensors", s.sensors}, {"shards", s.shards},
                        {"runs", runs}, {"peak_rss_mib", bench::peak_rss_mib()}};
  report["msgs_per_s"] = runs.back()["msgs_per_s"];
  // CPU per reading with N daemons against 1 (flat is the goal: <= ~1.1).
  if (runs.size() > 1 && runs.front()["daemons"] == 1)
    for (auto& run : runs)
      run["cpu_ratio_to_1"] = run["cpu_s_per_million"].get<double>() / runs.front()["cpu_s_per_million"].get<double>();
  report["runs"] = runs;
  report["queues_collected"] = std::all_of(runs.begin(), runs.end(), [](const nlohmann::json& run) {
    return run["queues_collected"].get<bool>();
  });
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
