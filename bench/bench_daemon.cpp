// bench_daemon — the `daemon` benchmark: preloaded readings drained by the daemon as users run
// it (`telluride pipeline`, default config), compared in the same run with the minimal
// rabbitmq-c consumer on an equal queue of the same broker.
//
//   bench_daemon --url amqp://guest:guest@127.0.0.1:12700/%2f --broker-pid PID
//                --telluride build/bin/telluride --work-dir DIR
//                [--messages 200000] [--sensors 1000] [--sensors-large 10000] [--rounds 3]
//                [--set KEY=JSON]...   (experiments: a daemon config key other than the default)
//
// The daemon runs in both state modes, side by side in the same run: durable (the default:
// checkpoints to a state stream of the run's own, acks after each confirmed checkpoint) and
// memory. Durable runs also report their checkpoint bytes per second and, after the run, the
// restore of a restarted daemon from the stream the run left.
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
// in each mode at `--sensors-large`. Progress goes to stderr; the last stdout line is one JSON object
// (bench/run.sh contract) with name "daemon", msgs_per_s, peak_rss_mib, ratio, ...
#include "daemon/report.hpp"
#include "daemon/run.hpp"
#include "support/command_line.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace amqp = causeway::amqp;
using namespace daemon_bench;

namespace {

settings parse(int argc, char** argv) {
  settings s;
  std::vector<std::string> overrides;
  CLI::App app{"Drains preloaded readings through `telluride pipeline` and through a minimal rabbitmq-c "
               "consumer on the same broker.",
               "bench_daemon"};
  bench::last_one_wins(app);
  app.add_option("--url", s.url, "broker URL");
  app.add_option("--broker-pid", s.broker_pid, "the broker's pid, for its CPU time")->check(CLI::NonNegativeNumber);
  app.add_option("--telluride", s.telluride, "the telluride program")->check(CLI::ExistingFile);
  app.add_option("--work-dir", s.work_dir, "where the daemons' configs and logs go");
  app.add_option("--messages", s.messages, "readings per drain")->check(bench::multiple_of_100);
  app.add_option("--sensors", s.sensors, "sensors of the rounds")->check(CLI::Range(1, 10'000'000));
  app.add_option("--sensors-large", s.sensors_large, "sensors of the last run")->check(CLI::Range(1, 10'000'000));
  app.add_option("--rounds", s.rounds, "rounds; the best of each side counts")->check(CLI::Range(1, 100));
  app.add_option("--set", overrides, "KEY=JSON: a daemon config key other than the default (experiments)")
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
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

  using telluride::state_mode;
  bench::reading_fleet fleet{s.sensors};
  std::vector<bench::drain_result> baselines;
  runs durable;
  runs memory;
  for (int round = 0; round < s.rounds; ++round) {
    std::fprintf(stderr, "round %d of %d: %zu readings of %zu sensors per drain\n", round + 1, s.rounds, s.messages,
                 s.sensors);
    std::string tag = "r";
    tag += std::to_string(round + 1);
    auto baseline = [&] { baselines.push_back(drain_baseline(s, **admin, fleet, tag + "_baseline")); };
    auto daemon = [&](state_mode mode) {
      const bool is_durable = mode == state_mode::durable;
      (is_durable ? durable : memory)
        .rounds.push_back(run_daemon(s, **admin, s.sensors,
                                     tag + (is_durable ? "_durable_s" : "_memory_s") + std::to_string(s.sensors), mode));
    };
    // Each side goes first in turn: whatever the machine does meanwhile hits them alike.
    if (round % 2 == 0) {
      baseline();
      daemon(state_mode::memory);
      daemon(state_mode::durable);
    } else {
      daemon(state_mode::durable);
      daemon(state_mode::memory);
      baseline();
    }
  }
  std::fprintf(stderr, "one daemon run in each mode with %zu sensors\n", s.sensors_large);
  memory.large = run_daemon(s, **admin, s.sensors_large, "large_memory_s" + std::to_string(s.sensors_large),
                            state_mode::memory);
  durable.large = run_daemon(s, **admin, s.sensors_large, "large_durable_s" + std::to_string(s.sensors_large),
                             state_mode::durable);

  std::printf("%s\n", report(s, baselines, durable, memory).dump().c_str());
  return 0;
}
