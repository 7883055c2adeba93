// http_api.hpp — the daemon's HTTP routes (docs/http.md).
//
//   GET  /healthz, /readyz (200 only while readings and control are handled; 503 with the
//        reason otherwise), /metrics (Prometheus text),
//        /api/config, /api/config/schema (the reconfiguration keys and their bounds),
//        /api/topology, /api/sensors/{line}/{device}/{sensor}, /api/shards,
//        /api/stream (the live feed, server-sent events), / (dashboard)
//   POST /api/config   the reconfiguration JSON; needs `Authorization: Bearer <http_token>`,
//                      refused (403) when no token is configured
// Most handlers run on the HTTP server's loop thread and read snapshots. The ones that need an
// actor (POST /api/config, GET /api/topology) are declared `handler_thread::worker`: they ask
// it with a bounded wait on a worker thread, so however long they wait the loop keeps answering
// /healthz and /readyz (docs/http.md, Limits).
//
// It sees only what it serves (http_api_parts): the status probe (/readyz, /metrics,
// /api/topology), the current config, the sensor tracker, the readings supervisor (asked for
// its stages) and the slot of the current config actor.
#pragma once

#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/daemon_probe.hpp"
#include "telluride/daemon/part_supervisor.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/daemon/shard_board.hpp"
#include "telluride/http/event_feed.hpp"
#include "telluride/http/router.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace telluride {

/// What the HTTP API uses; every pointer is set.
struct http_api_parts {
  std::shared_ptr<const daemon_probe> status;
  std::shared_ptr<const config_store> config;
  std::shared_ptr<const sensor_tracker> tracker;
  caf::actor pipeline;                         ///< the readings supervisor: its stages
  std::shared_ptr<const actor_slot> config_handler;  ///< the current config actor (its supervisor may replace it)
  std::shared_ptr<const shard_board> shards;  ///< GET /api/shards; empty rows with shards 1
  std::shared_ptr<http::event_feed> live;     ///< GET /api/stream (live_feed.hpp publishes it)
};

http::router make_http_api(caf::actor_system& system, http_api_parts parts);

/// What a daemon standing by names (shards 1, while another daemon's connection holds the
/// readings lock): itself, the readings queue and the lock.
/// Where a daemon with shards 1 is before it serves its own API.
enum class start_step : std::uint8_t {
  standing_by,  ///< another daemon holds the readings lock
  restoring,    ///< this one holds it and restores the state (durable mode)
};

struct standby_api_parts {
  std::string node;
  std::string readings_queue;
  std::string lock_queue;
  std::string state_stream;
  /// Read at every request; null: standing_by.
  std::shared_ptr<const std::atomic<start_step>> step;
};

/// The routes of a daemon standing by or restoring its state (docs/http.md, While standing by):
/// /healthz 200, /readyz 503 naming the wait, /metrics with telluride_ready 0 and
/// telluride_standby 1 while standing by (0 while restoring), /api/shards with the one shard in
/// state standby (no owner known) or restoring (this node); every other route of the API 503
/// with the same reason (nothing is restored yet).
http::router make_standby_api(standby_api_parts parts);

} // namespace telluride
