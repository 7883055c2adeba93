// daemon_snapshot.hpp — the daemon's state as one plain value, read at one moment.
//
// The status probe (daemon_probe.hpp) fills it; the stats file of `telluride stats`,
// `GET /metrics` and `GET /api/topology` are views of it (snapshot_views.hpp). What the
// daemon derives from its counters — whether it is ready and why not, how many readings are in
// flight, how many reconnects — is derived here and nowhere else. Pure: no locks, no clocks.
#pragma once

#include "telluride/telemetry/node_metrics.hpp"
#include "telluride/telemetry/throughput.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/queue_source.hpp>
#include <causeway/amqp/publisher.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace telluride {

/// What decides whether the daemon handles input (readings and control) now.
struct readiness {
  bool consuming = false;                   ///< a readings pipeline generation runs
  bool connected = false;                   ///< the consuming connection is up
  std::optional<std::string> part_problem;  ///< "PART: REASON" of a daemon part that is down

  /// Why the daemon does not handle input now, or nothing when it does (docs/http.md, Routes):
  /// the pipeline restarts, else the broker connection is down, else a part is down.
  std::optional<std::string> problem() const;
  bool is_ready() const { return !problem(); }
};

/// Durable mode's checkpoints and restore (absent in memory mode).
struct checkpoint_figures {
  std::uint64_t rounds = 0;         ///< confirmed checkpoint rounds
  std::uint64_t failed_rounds = 0;
  std::uint64_t snapshots = 0;      ///< confirmed records, by kind
  std::uint64_t deltas = 0;
  std::uint64_t bytes = 0;          ///< of the confirmed records
  std::uint64_t held = 0;           ///< acknowledgements waiting for a checkpoint now
  std::uint64_t restore_ms = 0;     ///< the restore at start
  std::uint64_t restored_sensors = 0;
  std::uint64_t restore_records = 0;  ///< records read by the restore
  std::uint64_t epoch = 0;          ///< the owner epoch of this process's claim
  std::uint64_t round_us = 0;       ///< confirmed rounds' time from seal to release, summed
  std::int64_t last_confirmed_ms = 0;  ///< when the latest round was confirmed (epoch ms; 0: never)
  /// Own records the stream follower found missing before a later own delta (confirmed, then
  /// lost by the broker): each heals with a snapshot of its shard in the next round.
  std::uint64_t chain_breaks = 0;
};

struct daemon_snapshot {
  std::int64_t started_ms = 0;  ///< epoch ms
  std::int64_t taken_ms = 0;    ///< epoch ms of this snapshot
  std::uint64_t config_version = 0;
  std::string amqp_url;         ///< password masked
  std::string http_listen;      ///< HOST:PORT

  readiness ready;
  throughput_sample totals;     ///< messages_per_second unset: it belongs to the reporter's sampling
  std::uint64_t duplicates = 0;
  causeway::amqp::queue_source_stats readings;        ///< the current readings source
  causeway::amqp::connection_stats connection;    ///< the consuming connection
  causeway::amqp::publisher_stats published;      ///< the outputs

  std::uint64_t sensors = 0;          ///< sensors with an aggregate
  std::uint64_t sensors_tracked = 0;
  std::uint64_t sensors_max = 0;
  std::uint64_t sensor_readings_refused = 0;
  std::uint64_t alerts = 0;

  std::uint64_t config_applied = 0;
  std::uint64_t config_rejected = 0;
  std::uint64_t handler_errors = 0;

  std::optional<checkpoint_figures> checkpoints;  ///< durable mode only

  std::vector<node_metric> stages;  ///< filled only when asked for (snapshot_detail::with_stages)

  /// Readings taken from the broker and not yet settled (acked, rejected, requeued or dropped
  /// with a replaced channel); never negative.
  std::uint64_t in_flight() const;
  /// Reconnects of the consuming connection (opens after the first).
  std::uint64_t reconnects() const;
};

} // namespace telluride
