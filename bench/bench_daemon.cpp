// bench_daemon — the `daemon` benchmark: preloaded readings drained by the daemon as users run
// it (`telluride pipeline`, default config), compared in the same run with the minimal
// rabbitmq-c consumer on an equal queue of the same broker.
//
//   bench_daemon --url amqp://guest:guest@127.0.0.1:12700/%2f --broker-pid PID
//                --telluride build/bin/telluride --work-dir DIR
//                [--messages 200000] [--sensors 1000] [--sensors-large 10000] [--rounds 3]
//                [--set KEY=JSON]...   (experiments: a daemon config key other than the default)
//                [--noise 0.3] [--noisy-neighbour PATH] [--paced-rates 5000,20000] [--paced-seconds 8]
//                [--idle-seconds 5] [--profile FILE.perf.data [--perf perf]]
//
// Quiet and noisy (issue P2.4): each round also drains the baseline and the durable daemon
// while the noisy neighbour (bench/noisy_neighbour.cpp, --noise F of every millisecond spent
// streaming through 4 x the last-level cache) runs beside them; --noise 0 leaves it out.
// Paced: in each round, after its quiet drains, one durable daemon idles for --idle-seconds
// (its CPU, in % of a core), then `telluride sensors` feeds it at each --paced-rates rate for
// --paced-seconds; the least CPU per reading of each rate over the rounds is held against the
// best drain's, as the best round of each drain counts (--paced-seconds 0: none).
// --profile FILE: only one durable drain at --sensors, recorded by `perf record -g` into
// FILE; prints the top symbols and the shares of the groups of the issue (perf_profile.hpp).
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
// multiple-ack every 100). Each round drains at `--sensors` (the baseline and both modes), then
// at `--sensors-large` (both modes), each side first in turn, and the best round of each side
// counts: noise on a shared machine only slows runs down, and on this project's VM whole runs
// drain either fast or slow, whatever runs (the baseline too), so one round a side often
// compares a fast run with a slow one. Progress goes to stderr; the last stdout line is one JSON object
// (bench/run.sh contract) with name "daemon", msgs_per_s, peak_rss_mib, ratio, ...
#include "daemon/paced.hpp"
#include "daemon/perf_profile.hpp"
#include "daemon/report.hpp"
#include "daemon/run.hpp"
#include "support/command_line.hpp"
#include "support/neighbour_process.hpp"
#include "support/queue_collection.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
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
  app.add_option("--noise", s.noise, "busy share of each millisecond of the noisy neighbour (0: quiet only)")
    ->check(CLI::Range(0.0, 0.95));
  app.add_option("--noisy-neighbour", s.neighbour, "the noisy_neighbour program (default: beside bench_daemon)");
  app.add_option("--paced-rates", s.paced_rates, "readings/s of the paced runs")
    ->check(CLI::Range(1.0, 1e6))
    ->delimiter(',')
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--paced-seconds", s.paced_seconds, "length of each paced run (0: no paced or idle run)")
    ->check(CLI::Range(0.0, 600.0));
  app.add_option("--idle-seconds", s.idle_seconds, "the idle daemon's CPU is measured over this long")
    ->check(CLI::Range(1.0, 600.0));
  app.add_option("--profile", s.profile, "only one durable drain, recorded by perf record -g into this file");
  app.add_option("--perf", s.perf, "the perf program (its path)");
  bench::add_queue_collection_flags(app, s.broker_ctl, s.collect_queues, "the preloaded queues");
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
  if (s.neighbour.empty())
    s.neighbour = (std::filesystem::path{argv[0]}.parent_path() / "noisy_neighbour").string();
  if (s.noise > 0 && s.profile.empty() && ::access(s.neighbour.c_str(), X_OK) != 0)
    die("no noisy_neighbour program at " + s.neighbour + " (--noisy-neighbour PATH, or --noise 0)");
  std::error_code ec;
  std::filesystem::create_directories(s.work_dir, ec);
  return s;
}

/// Runs `body` with the noisy neighbour at `s.noise` beside it; its summary.
template <class Body>
bench::neighbour_summary beside_neighbour(const settings& s, const std::string& tag, Body body) {
  auto started = bench::neighbour_process::start(
    s.neighbour, s.noise, (std::filesystem::path{s.work_dir} / ("noisy-neighbour-" + tag + ".log")).string());
  if (!started)
    die(started.err().message);
  bench::neighbour_process neighbour = std::move(*started);
  std::function<void()> kill = [&neighbour] { neighbour.kill(); };
  on_die(&kill);
  body();
  auto summary = neighbour.stop();
  forget_on_die(&kill);
  if (!summary)
    die(summary.err().message);
  return *summary;
}

/// --profile: one durable drain under perf, and where its time went.
int profile_one_drain(const settings& s, causeway::amqp::connection& admin) {
  std::fprintf(stderr, "one durable drain of %zu readings of %zu sensors, recorded by perf into %s\n", s.messages,
               s.sensors, s.profile.c_str());
  auto d = run_daemon(s, admin, s.sensors, "profile_s" + std::to_string(s.sensors), telluride::state_mode::durable,
                      s.profile);
  auto summary = profile(s.perf, s.profile, std::filesystem::path{s.telluride}.filename().string());
  if (!summary)
    die(summary.err().message);
  // The profile names a thread as perf does ("TID:comm", or ":TID" when perf attached before
  // the thread was named): the benchmark's labels tell the two CAF workers and the AMQP
  // threads apart.
  const auto labels = labelled_threads(d);
  for (auto& t : summary->threads)
    for (std::size_t i = 0; i < d.threads.size(); ++i)
      if (t.tid == std::to_string(d.threads[i].tid)) {
        t.name = labels[i].first;
        break;
      }
  std::printf("daemon (durable), %zu sensors, under perf: %.0f msgs/s, %.2f CPU-s per million readings\n", s.sensors,
              d.msgs_per_s, cpu_per_million(d.cpu_s, s.messages));
  auto profile_json = print_profile(*summary);
  nlohmann::json out{{"name", "daemon_profile"},
                     {"msgs_per_s", round_to(d.msgs_per_s, 0)},
                     {"peak_rss_mib", round_to(d.peak_rss_mib, 1)},
                     {"cpu_s_per_million", round_to(cpu_per_million(d.cpu_s, s.messages), 3)},
                     {"messages", s.messages},
                     {"sensors", s.sensors},
                     {"perf_data", s.profile},
                     {"groups", profile_json["groups"]},
                     {"threads", profile_json["threads"]},
                     {"threads_kernel_percent", profile_json["threads_kernel_percent"]},
                     {"kernel_entries", profile_json["kernel_entries"]},
                     {"samples", profile_json["samples"]},
                     {"top", profile_json["top"]}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
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

  if (!s.profile.empty())
    return profile_one_drain(s, **admin);

  using telluride::state_mode;
  bench::reading_fleet fleet{s.sensors};
  results r;
  r.pressure_before = bench::cpu_pressure_some_avg10();
  auto& baselines = r.baselines;
  auto& durable = r.durable;
  auto& memory = r.memory;
  for (int round = 0; round < s.rounds; ++round) {
    std::fprintf(stderr, "round %d of %d: %zu readings of %zu sensors per drain\n", round + 1, s.rounds, s.messages,
                 s.sensors);
    std::string tag = "r";
    tag += std::to_string(round + 1);
    auto baseline = [&] { baselines.push_back(drain_baseline(s, **admin, fleet, tag + "_baseline")); };
    // A drain at --sensors goes to the mode's rounds, one at --sensors-large to its large runs.
    auto daemon = [&](state_mode mode, std::size_t sensors = 0) {
      const bool is_durable = mode == state_mode::durable;
      const bool is_large = sensors != 0;
      auto& runs = is_durable ? durable : memory;
      (is_large ? runs.large : runs.rounds)
        .push_back(run_daemon(s, **admin, is_large ? sensors : s.sensors,
                              tag + (is_large ? "_large" : "") + (is_durable ? "_durable_s" : "_memory_s") +
                                std::to_string(is_large ? sensors : s.sensors),
                              mode));
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
    std::fprintf(stderr, "round %d of %d: %zu readings of %zu sensors per drain\n", round + 1, s.rounds, s.messages,
                 s.sensors_large);
    daemon(round % 2 == 0 ? state_mode::memory : state_mode::durable, s.sensors_large);
    daemon(round % 2 == 0 ? state_mode::durable : state_mode::memory, s.sensors_large);
    // Paced in every round, as the drains are: the least CPU per reading of each rate counts,
    // held against the best drain's, so that a busy spell of the host does not decide either.
    if (s.paced_seconds > 0 && !s.paced_rates.empty()) {
      std::fprintf(stderr, "round %d of %d: one durable daemon with %zu sensors: idle for %.0f s, then paced\n",
                   round + 1, s.rounds, s.sensors, s.idle_seconds);
      r.paced.push_back(run_paced(s, **admin, round + 1));
    }
    if (s.noise <= 0)
      continue;
    std::fprintf(stderr, "round %d of %d, noisy: the neighbour streams %.0f %% of each millisecond\n", round + 1,
                 s.rounds, s.noise * 100);
    r.noisy.neighbours.push_back(beside_neighbour(s, tag, [&] {
      auto noisy_baseline = [&] { r.noisy.baselines.push_back(drain_baseline(s, **admin, fleet, tag + "_noisy_baseline")); };
      auto noisy_daemon = [&] {
        r.noisy.durable.push_back(run_daemon(s, **admin, s.sensors, tag + "_noisy_durable_s" + std::to_string(s.sensors),
                                             state_mode::durable));
      };
      if (round % 2 == 0) {
        noisy_daemon();
        noisy_baseline();
      } else {
        noisy_baseline();
        noisy_daemon();
      }
    }));
  }
  r.pressure_after = bench::cpu_pressure_some_avg10();

  std::printf("%s\n", report(s, r).dump().c_str());
  return 0;
}
