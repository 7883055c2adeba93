// run.hpp — the two drains of the daemon benchmark: a bare rabbitmq-c consumer (the baseline)
// and `telluride pipeline` as users run it, each on a queue of its own with its own topology.
#pragma once

#include "support/bench_support.hpp"
#include "support/child_process.hpp"
#include "support/reading_fleet.hpp"
#include "support/rounding.hpp"

#include "telluride/domain/config.hpp"

#include <causeway/amqp/connection.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace daemon_bench {

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
  double noise = 0.3;           // the noisy side's neighbour: busy share of each period; 0 = quiet only
  std::string neighbour;        // the noisy_neighbour program (default: beside bench_daemon)
  std::vector<double> paced_rates{5000, 20000};  // readings/s of the paced runs (empty: none)
  double paced_seconds = 8;     // each paced run publishes for this long
  double idle_seconds = 5;      // the idle daemon's CPU is measured over this long
  std::string profile;          // a perf.data path: only one durable drain, recorded by perf
  std::string perf = "/usr/bin/perf";  // the perf program (a path: it is spawned without a PATH search)
  std::string broker_ctl;       // the private broker's deploy/rabbitmq-local.sh (empty: none)
  bool collect_queues = true;   // with broker_ctl: each preloaded queue's process is collected first
};

/// Ends the benchmark: kills the daemon of the run in progress, deletes what the runs declared,
/// prints the error (stderr, and the JSON error line on stdout) and exits 1.
[[noreturn]] void die(const std::string& why);

/// die() runs `*cleanup` (deleting queues, stopping helper processes) until it is forgotten.
void on_die(std::function<void()>* cleanup);
void forget_on_die(std::function<void()>* cleanup);

/// Whether the process of every queue preloaded so far was garbage-collected before its drain.
bool were_queues_collected(const settings& s);

/// die() kills `daemon` (and shows its log) until it is set to nullptr again.
void set_running_daemon(bench::child_process* daemon);

/// Writes the config of a daemon of the run `tag` (every default, the routes of `topology`,
/// HTTP on `port` with `token`, the --set keys) into the work dir; its path.
std::string write_config_file(const settings& s, const telluride::config& topology, std::uint16_t port,
                              const std::string& token, const std::string& tag);

/// Preloads `s.messages` readings into a queue of their own and drains them with the bare
/// rabbitmq-c consumer.
bench::drain_result drain_baseline(const settings& s, causeway::amqp::connection& admin,
                                   const bench::reading_fleet& fleet, const std::string& tag);

struct daemon_result {
  telluride::state_mode mode = telluride::state_mode::durable;
  std::size_t sensors = 0;
  long pid = 0;
  double msgs_per_s = 0;       // total / (last_raw_time - earliest_raw_time)
  double wall_s = 0;           // spawn → every reading successful
  double cpu_s = 0;            // the daemon's utime + stime at that moment, start-up included
  double startup_cpu_s = 0;    // its main thread's share: start-up, then it waits for a signal
  double peak_rss_mib = 0;     // VmHWM at that moment
  double broker_cpu_s = 0;     // spawn → done
  double broker_gc_cpu_s = 0;  // of it, the broker's dirty CPU schedulers (its large heaps' collections)
  double reconfigure_ms = 0;   // POST /api/config round trip, idle
  double drain_ms = 0;         // the reply's drain_ms
  double shutdown_ms = 0;      // SIGTERM → exit
  std::vector<bench::thread_cpu> threads;  // at done
  std::uint64_t throughput_messages = 0;   // messages found on the throughput route
  double readings_per_ack_frame = 0;       // from /metrics at done
  double window_full = 0;                  // times the prefetch window filled, from /metrics at done
  double window_full_s = 0;                // how long it stayed full, in all
  std::string stage_batches;               // messages per call of each stage kind, at done
  double tcp_segments_per_1000 = 0;        // machine-wide TCP segments sent, spawn → done
  double broker_waits_per_1000 = 0;        // the broker's threads, spawn → done
  double broker_preemptions_per_1000 = 0;
  double mean_in_flight = 0;               // telluride_in_flight sampled while draining
  double median_in_flight = 0;
  // Durable mode only:
  double checkpoint_bytes = 0;             // confirmed checkpoint bytes, spawn → done
  double checkpoint_rounds = 0;            // confirmed rounds, spawn → done
  double restore_ms = 0;                   // a restart after the run: its restore (telluride_restore_milliseconds)
  double restart_ready_ms = 0;             // that restart: spawn → /readyz 200
  double restored_sensors = 0;
};

/// Preloads readings of `sensors` sensors and drains them with the daemon in `mode`; see
/// bench_daemon.cpp.
/// With `perf_output`, `perf record -g` samples the daemon from its spawn until every reading
/// is successful, into that file.
daemon_result run_daemon(const settings& s, causeway::amqp::connection& admin, std::size_t sensors,
                         const std::string& tag, telluride::state_mode mode, const std::string& perf_output = {});

inline double per_1000(std::uint64_t n, std::size_t messages) {
  return static_cast<double>(n) * 1000.0 / static_cast<double>(messages);
}

/// CPU seconds per 100,000 readings (the broker's figure).
inline double per_100k(double cpu_s, std::size_t messages) {
  return cpu_s * 1e5 / static_cast<double>(messages);
}

/// The share of a drain the daemon's prefetch window stood full (the broker waited for its
/// acknowledgements): the window's full time over the drain's span (messages at msgs_per_s).
inline double window_full_share(const daemon_result& r, std::size_t messages) {
  return r.msgs_per_s > 0 ? r.window_full_s * r.msgs_per_s / static_cast<double>(messages) : 0.0;
}

using bench::round_to;

inline double cpu_per_million(double cpu_s, std::size_t messages) {
  return cpu_s * 1e6 / static_cast<double>(messages);
}

} // namespace daemon_bench
