// http_api.hpp — the daemon's HTTP routes (docs/http.md).
//
//   GET  /healthz, /readyz (200 only while readings and control are handled; 503 with the
//        reason otherwise), /metrics (Prometheus text),
//        /api/config, /api/topology, /api/sensors/{line}/{device}/{sensor}, / (dashboard)
//   POST /api/config   the reconfiguration JSON; needs `Authorization: Bearer <http_token>`,
//                      refused (403) when no token is configured
// Most handlers run on the HTTP server's loop thread and read snapshots. The ones that need an
// actor (POST /api/config, GET /api/topology) are declared `handler_thread::worker`: they ask
// it with a bounded wait on a worker thread, so however long they wait the loop keeps answering
// /healthz and /readyz (docs/http.md, Limits).
#pragma once

#include "telluride/daemon/daemon_state.hpp"
#include "telluride/daemon/part_supervisor.hpp"
#include "telluride/http/router.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>
#include <string>

namespace telluride {

/// `config_handler` holds the current config actor (its supervisor may replace it).
http::router make_http_api(caf::actor_system& system, std::shared_ptr<daemon_state> state,
                           std::shared_ptr<actor_slot> config_handler);

/// The Prometheus exposition of the daemon's counters.
std::string prometheus_metrics(const daemon_state& state);

} // namespace telluride
