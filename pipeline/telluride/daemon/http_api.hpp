// http_api.hpp — the daemon's HTTP routes (CONTRACT §5).
//
//   GET  /healthz, /readyz (200 only while consuming), /metrics (Prometheus text),
//        /api/config, /api/topology, /api/sensors/{line}/{device}/{sensor}, / (dashboard)
//   POST /api/config   the reconfiguration JSON; needs `Authorization: Bearer <http_token>`,
//                      refused (403) when no token is configured
// Most handlers run on the HTTP server's loop thread and read snapshots. The ones that need an
// actor (POST /api/config, GET /api/topology) are declared `handler_thread::worker`: they ask
// it with a bounded wait on a worker thread, so however long they wait the loop keeps answering
// /healthz and /readyz (CONTRACT §5).
#pragma once

#include "telluride/daemon/daemon_state.hpp"
#include "telluride/http/router.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>
#include <string>

namespace telluride {

http::router make_http_api(caf::actor_system& system, std::shared_ptr<daemon_state> state,
                           caf::actor config_actor);

/// The Prometheus exposition of the daemon's counters.
std::string prometheus_metrics(const daemon_state& state);

} // namespace telluride
