#include "telluride/daemon/http_api.hpp"

#include "telluride/daemon/config_actor.hpp"
#include "telluride/daemon/dashboard.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/sensor_listing.hpp"
#include "telluride/daemon/snapshot_views.hpp"
#include "telluride/domain/config_schema.hpp"
#include "telluride/domain/json_id.hpp"
#include "telluride/domain/reconfiguration_schema.hpp"
#include "telluride/http/bearer_token.hpp"

#include <causeway/atoms.hpp>

#include <caf/scoped_actor.hpp>

#include <chrono>
#include <map>

namespace telluride {

namespace {

using http::request;
using http::response;
using http::route_params;

constexpr auto actor_timeout = std::chrono::seconds(120);

response json(int status, const nlohmann::json& body) { return response::json(status, body.dump() + "\n"); }

response error_response(int status, const std::string& message) { return json(status, {{"error", message}}); }

std::vector<causeway::stage_info> pipeline_stages(caf::actor_system& system, const caf::actor& pipeline) {
  std::vector<causeway::stage_info> stages;
  caf::scoped_actor self{system};
  self->request(pipeline, std::chrono::seconds(5), causeway::topology_atom::value)
    .receive([&](std::vector<causeway::stage_info>& s) { stages = std::move(s); }, [](caf::error&) {});
  return stages;
}

response post_config(caf::actor_system& system, const config_store& config_now, const actor_slot& handler,
                     const request& req) {
  auto token = config_now.current().first.http_token;
  if (token.empty())
    return error_response(403, "POST /api/config is disabled: no http_token is configured");
  if (!http::has_bearer_token(req, token)) {
    auto r = error_response(401, "a valid bearer token is required");
    r.headers.push_back({"WWW-Authenticate", "Bearer"});
    return r;
  }
  auto config = handler.get();
  if (!config)
    return error_response(503, "the config handler is restarting; try again");
  config_outcome outcome;
  bool answered = false;
  caf::scoped_actor self{system};
  self->request(config, actor_timeout, apply_atom::value, req.body)
    .receive(
      [&](config_outcome& o) {
        outcome = std::move(o);
        answered = true;
      },
      [](caf::error&) {});
  if (!answered)
    return error_response(503, "the reconfiguration did not finish in time");
  return json(outcome.applied ? 200 : 400, outcome.event);
}

/// Why a sensor is not here with K > 1: the broker's hash decides its shard, which this node
/// does not compute; it names this node's shards and the owners of the others.
std::string sensor_elsewhere(const sensor_key& key, const shard_board_view& view) {
  auto add = [](std::string& list, std::uint32_t shard) {
    if (!list.empty())
      list += ',';
    list += std::to_string(shard);
  };
  std::string mine;
  std::map<std::string, std::string> others;
  for (const auto& r : view.shards) {
    if (r.owner == view.node && r.state == "active")
      add(mine, r.shard);
    else
      add(others[r.owner.empty() ? std::string("nobody yet") : r.owner], r.shard);
  }
  std::string text = "no readings for sensor " + to_string(key) + " on node " + view.node + " (shards " +
                     (mine.empty() ? std::string("none") : mine) + ")";
  if (!others.empty()) {
    text += "; its shard is owned by another node:";
    for (const auto& [owner, list] : others)
      text += " " + owner + " (shards " + list + ")";
  }
  return text;
}

/// Shards 1: the one shard as the daemon that holds the readings lock sees it.
shard_board_view held_single_shard(const daemon_snapshot& s, const config& cfg) {
  const std::int64_t lag = s.checkpoints ? checkpoint_lag_ms(s.checkpoints->last_confirmed_ms, s.taken_ms) : 0;
  return single_shard_view(cfg.node_name, cfg.routes.readings_queue, "active", s.sensors, lag);
}

} // namespace

http::router make_standby_api(standby_api_parts parts) {
  const std::string standing_by = "standing by: another daemon consumes " + parts.readings_queue +
                                  " (its connection holds the lock " + parts.lock_queue +
                                  "); this one takes over when that connection closes";
  const std::string restoring = "restoring the state from the stream " + parts.state_stream + " before consuming " +
                                parts.readings_queue;
  auto step = parts.step ? parts.step : std::make_shared<const std::atomic<start_step>>(start_step::standing_by);
  auto is_restoring = [step] { return step->load() == start_step::restoring; };
  auto reason = [is_restoring, standing_by, restoring]() -> const std::string& {
    return is_restoring() ? restoring : standing_by;
  };
  http::router routes;
  routes.add("GET", "/healthz", [](const request&, const route_params&) {
    return json(200, {{"status", "ok"}});
  });
  routes.add("GET", "/readyz", [reason](const request&, const route_params&) {
    return json(503, {{"status", "not ready"}, {"reason", reason()}});
  });
  routes.add("GET", "/metrics", [is_restoring](const request&, const route_params&) {
    response r = response::text(200,
                                std::string{"# HELP telluride_ready 1 while readings and control are handled (see "
                                            "/readyz).\n"
                                            "# TYPE telluride_ready gauge\n"
                                            "telluride_ready 0\n"
                                            "# HELP telluride_standby 1 while this daemon stands by (shards 1: "
                                            "another daemon consumes).\n"
                                            "# TYPE telluride_standby gauge\n"
                                            "telluride_standby "} +
                                  (is_restoring() ? "0\n" : "1\n"));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
  routes.add("GET", "/api/shards",
             [is_restoring, standby = single_shard_view(parts.node, parts.readings_queue, "standby", 0, 0),
              restoring_view = single_shard_view(parts.node, parts.readings_queue, "restoring", 0, 0)](
               const request&, const route_params&) {
               return json(200, shards_json(is_restoring() ? restoring_view : standby));
             });
  // The rest of the API needs the state this daemon has not restored yet.
  auto unavailable = [reason](const request&, const route_params&) { return error_response(503, reason()); };
  for (const char* path : {"/api/config", "/api/config/schema", "/api/topology", "/api/sensors",
                           "/api/sensors/{line}/{device}/{sensor}", "/api/stream"})
    routes.add("GET", path, unavailable);
  for (const embedded_asset& asset : dashboard_assets())
    routes.add("GET", std::string{asset.path}, unavailable);
  routes.add("POST", "/api/config", unavailable);
  return routes;
}

http::router make_http_api(caf::actor_system& system, http_api_parts parts) {
  http::router routes;
  routes.add("GET", "/healthz", [](const request&, const route_params&) {
    return json(200, {{"status", "ok"}});
  });
  routes.add("GET", "/readyz", [status = parts.status](const request&, const route_params&) {
    if (auto reason = status->check_readiness().problem())
      return json(503, {{"status", "not ready"}, {"reason", *reason}});
    return json(200, {{"status", "ready"}});
  });
  routes.add("GET", "/metrics", [status = parts.status, shards = parts.shards](const request&, const route_params&) {
    response r = response::text(200, prometheus_metrics(status->take(now_ms(), snapshot_detail::with_stages)) +
                                       shards_metrics(shards->view()));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
  routes.add("GET", "/api/config", [config = parts.config](const request&, const route_params&) {
    auto [cfg, version] = config->current();
    return json(200, {{"version", version}, {"config", to_json(cfg, secrets::masked)}});
  });
  routes.add("GET", "/api/config/schema", [schema = reconfiguration_schema_json()](const request&, const route_params&) {
    return json(200, schema);
  });
  routes.add("GET", "/api/stream", [live = parts.live](const request&, const route_params&) {
    return response::event_stream(live);
  });
  // These two wait on actors (the reconfiguration drains the pipeline, up to actor_timeout):
  // they run on workers so the loop keeps answering /healthz and /readyz meanwhile.
  routes.add(
    "POST", "/api/config",
    [&system, config = parts.config, handler = parts.config_handler](const request& req, const route_params&) {
      return post_config(system, *config, *handler, req);
    },
    http::handler_thread::worker);
  routes.add(
    "GET", "/api/topology",
    [&system, status = parts.status, pipeline = parts.pipeline, shards = parts.shards](const request&,
                                                                                        const route_params&) {
      auto stages = pipeline_stages(system, pipeline);
      auto body = topology_json(status->take(now_ms()), stages);
      if (auto view = shards->view(); !view.shards.empty())
        body["shards"] = shards_json(view);
      return json(200, body);
    },
    http::handler_thread::worker);
  routes.add("GET", "/api/shards", [shards = parts.shards, status = parts.status, config = parts.config](
                                      const request&, const route_params&) {
    auto view = shards->view();
    if (view.shards.empty())  // shards 1: the readings queue, held here while the API serves
      view = held_single_shard(status->take(now_ms()), config->current().first);
    return json(200, shards_json(view));
  });
  // Visits every sensor (one shard lock at a time): on a worker, so the loop keeps answering.
  routes.add(
    "GET", "/api/sensors",
    [tracker = parts.tracker](const request& req, const route_params&) {
      auto query =
        parse_sensor_listing_query(req.query_value("q"), req.query_value("limit"), req.query_value("sort"));
      if (!query)
        return error_response(400, query.err().message);
      sensor_listing listing{std::move(*query)};
      tracker->for_each_sensor([&](const sensor_aggregate& a, std::uint64_t alerts) { listing.offer(a, alerts); });
      return response::json(200, listing.take_json() + "\n");
    },
    http::handler_thread::worker);
  routes.add("GET", "/api/sensors/{line}/{device}/{sensor}", [tracker = parts.tracker, shards = parts.shards](
                                                               const request&, const route_params& p) {
    sensor_key key{json_id_from_text(p["line"]), json_id_from_text(p["device"]), json_id_from_text(p["sensor"])};
    auto found = tracker->find(key);
    if (!found) {
      auto view = shards->view();
      if (view.shards.empty())
        return error_response(404, "no readings for sensor " + to_string(key));
      return error_response(404, sensor_elsewhere(key, view));
    }
    // Exactly the aggregate message (docs/wire-format.md): the listing adds the alerts raised.
    return response::json(200, to_json_text(found->aggregate) + "\n");
  });
  for (const embedded_asset& asset : dashboard_assets()) {
    routes.add("GET", std::string{asset.path}, [asset](const request&, const route_params&) {
      response r = response::text(200, std::string{asset.body});
      r.content_type = std::string{asset.content_type} + "; charset=utf-8";
      return r;
    });
  }
  return routes;
}

} // namespace telluride
