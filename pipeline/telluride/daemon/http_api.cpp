#include "telluride/daemon/http_api.hpp"

#include "telluride/daemon/config_actor.hpp"
#include "telluride/daemon/dashboard.hpp"
#include "telluride/domain/config_schema.hpp"
#include "telluride/domain/json_id.hpp"
#include "telluride/http/bearer_token.hpp"

#include <causeway/atoms.hpp>

#include <caf/scoped_actor.hpp>

#include <chrono>
#include <sstream>

namespace telluride {

namespace {

using http::request;
using http::response;
using http::route_params;

constexpr auto actor_timeout = std::chrono::seconds(120);

response json(int status, const nlohmann::json& body) { return response::json(status, body.dump() + "\n"); }

response error_response(int status, const std::string& message) { return json(status, {{"error", message}}); }

nlohmann::json topology_json(caf::actor_system& system, const daemon_state& state) {
  std::vector<causeway::stage_info> stages;
  caf::scoped_actor self{system};
  self->request(state.supervisor, std::chrono::seconds(5), causeway::topology_atom::value)
    .receive([&](std::vector<causeway::stage_info>& s) { stages = std::move(s); }, [](caf::error&) {});
  auto list = nlohmann::json::array();
  for (const auto& s : stages)
    list.push_back({{"node_type", std::string{causeway::to_string(s.kind)}},
                    {"name", s.name},
                    {"partition", s.index},
                    {"received", s.received},
                    {"in_flight", s.in_flight},
                    {"outstanding_demand", s.outstanding_demand}});
  return {{"config_version", state.current().second}, {"consuming", state.consuming.load()}, {"stages", list}};
}

response post_config(caf::actor_system& system, const daemon_state& state, const actor_slot& handler,
                     const request& req) {
  auto token = state.current().first.http_token;
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

} // namespace

http::router make_http_api(caf::actor_system& system, std::shared_ptr<daemon_state> state,
                           std::shared_ptr<actor_slot> config_handler) {
  http::router routes;
  routes.add("GET", "/healthz", [](const request&, const route_params&) {
    return json(200, {{"status", "ok"}});
  });
  routes.add("GET", "/readyz", [state](const request&, const route_params&) {
    if (auto reason = state->not_ready_reason())
      return json(503, {{"status", "not ready"}, {"reason", *reason}});
    return json(200, {{"status", "ready"}});
  });
  routes.add("GET", "/metrics", [state](const request&, const route_params&) {
    response r = response::text(200, prometheus_metrics(*state));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
  routes.add("GET", "/api/config", [state](const request&, const route_params&) {
    auto [cfg, version] = state->current();
    return json(200, {{"version", version}, {"config", to_json(cfg, secrets::masked)}});
  });
  // These two wait on actors (the reconfiguration drains the pipeline, up to actor_timeout):
  // they run on workers so the loop keeps answering /healthz and /readyz meanwhile.
  routes.add(
    "POST", "/api/config",
    [&system, state, config_handler](const request& req, const route_params&) {
      return post_config(system, *state, *config_handler, req);
    },
    http::handler_thread::worker);
  routes.add(
    "GET", "/api/topology",
    [&system, state](const request&, const route_params&) { return json(200, topology_json(system, *state)); },
    http::handler_thread::worker);
  routes.add("GET", "/api/sensors/{line}/{device}/{sensor}", [state](const request&, const route_params& p) {
    sensor_key key{json_id_from_text(p["line"]), json_id_from_text(p["device"]), json_id_from_text(p["sensor"])};
    auto found = state->tracker->find(key);
    if (!found)
      return error_response(404, "no readings for sensor " + to_string(key));
    return response::json(200, to_json_text(*found) + "\n");
  });
  routes.add("GET", "/", [](const request&, const route_params&) {
    response r = response::text(200, std::string{dashboard_html});
    r.content_type = "text/html; charset=utf-8";
    return r;
  });
  return routes;
}

std::string prometheus_metrics(const daemon_state& state) {
  std::ostringstream out;
  auto metric = [&out](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  auto totals = state.totals->peek();
  metric("telluride_readings_total", "counter", "Readings finished since the daemon started, by outcome.");
  out << "telluride_readings_total{outcome=\"successful\"} " << totals.total_successful_count << '\n';
  out << "telluride_readings_total{outcome=\"failed\"} " << totals.total_failed_count << '\n';
  metric("telluride_readings_duplicate_total", "counter", "Redelivered readings recognised by message_id and not counted again.");
  out << "telluride_readings_duplicate_total " << state.totals->duplicates() << '\n';

  auto source = state.readings->current();
  auto consumer = source->stats();
  metric("telluride_amqp_consumed_total", "counter", "Deliveries taken from the readings queue.");
  out << "telluride_amqp_consumed_total " << consumer.delivered << '\n';
  metric("telluride_amqp_acked_total", "counter", "Readings acknowledged to the broker.");
  out << "telluride_amqp_acked_total " << consumer.acked << '\n';
  metric("telluride_amqp_rejected_total", "counter", "Readings rejected to the broker (requeued or not).");
  out << "telluride_amqp_rejected_total " << consumer.rejected + consumer.requeued << '\n';
  metric("telluride_amqp_ack_frames_total", "counter", "basic.ack/nack/reject frames sent (coalesced).");
  out << "telluride_amqp_ack_frames_total " << consumer.ack_frames << '\n';
  metric("telluride_amqp_dropped_acks_total", "counter", "Acknowledgements of a replaced channel: expected redeliveries.");
  out << "telluride_amqp_dropped_acks_total " << consumer.dropped_acks << '\n';
  auto settled = consumer.acked + consumer.rejected + consumer.requeued + consumer.dropped_acks;
  metric("telluride_in_flight", "gauge", "Readings taken from the broker and not yet settled.");
  out << "telluride_in_flight " << (consumer.delivered > settled ? consumer.delivered - settled : 0) << '\n';
  auto conn = source->connection()->stats();
  metric("telluride_amqp_connection_losses_total", "counter", "Consuming connection losses (each followed by a reconnect).");
  out << "telluride_amqp_connection_losses_total " << conn.losses << '\n';

  auto pub = state.out->publisher().stats();
  metric("telluride_published_total", "counter", "Output messages published.");
  out << "telluride_published_total " << pub.published << '\n';
  metric("telluride_published_unconfirmed", "gauge", "Output messages not yet confirmed by the broker.");
  out << "telluride_published_unconfirmed " << pub.outstanding << '\n';
  metric("telluride_publisher_blocked_total", "counter", "connection.blocked notifications (broker alarms).");
  out << "telluride_publisher_blocked_total " << pub.blocked << '\n';

  metric("telluride_sensors", "gauge", "Sensors with an aggregate.");
  out << "telluride_sensors " << state.tracker->size() << '\n';
  metric("telluride_sensors_tracked", "gauge", "Sensors tracked: places taken under telluride_sensors_max.");
  out << "telluride_sensors_tracked " << state.tracker->tracked() << '\n';
  metric("telluride_sensors_max", "gauge", "Sensors tracked at most (max_sensors, or sized from memory).");
  out << "telluride_sensors_max " << state.tracker->max_sensors() << '\n';
  metric("telluride_sensor_readings_refused_total", "counter",
         "Readings dead-lettered because their sensor was new and telluride_sensors_max sensors were tracked.");
  out << "telluride_sensor_readings_refused_total " << state.tracker->refused() << '\n';
  metric("telluride_alerts_total", "counter", "threshold_exceeded alerts raised.");
  out << "telluride_alerts_total " << state.tracker->alerts_raised() << '\n';
  metric("telluride_config_version", "gauge", "Applied reconfigurations since start.");
  out << "telluride_config_version " << state.current().second << '\n';
  metric("telluride_config_changes_total", "counter", "Reconfigurations handled since start, by outcome.");
  out << "telluride_config_changes_total{outcome=\"applied\"} " << state.counters.config_applied << '\n';
  out << "telluride_config_changes_total{outcome=\"rejected\"} " << state.counters.config_rejected << '\n';
  metric("telluride_handler_errors_total", "counter", "Exceptions caught in the daemon's own handlers (each settled its message).");
  out << "telluride_handler_errors_total " << state.counters.handler_errors << '\n';
  metric("telluride_ready", "gauge", "1 while readings and control are handled (see /readyz).");
  out << "telluride_ready " << (state.is_ready() ? 1 : 0) << '\n';

  auto nodes = state.nodes->snapshot();
  metric("telluride_stage_calls_total", "counter", "Calls per stage instance (processor vectors, batches...).");
  auto labels = [](const node_metric& n) {
    return "{node_type=\"" + std::string{causeway::to_string(n.kind)} + "\",name=\"" + n.name +
           "\",partition=\"" + std::to_string(n.partition) + "\"}";
  };
  for (const auto& n : nodes)
    out << "telluride_stage_calls_total" << labels(n) << ' ' << n.call_count << '\n';
  metric("telluride_stage_messages_total", "counter", "Messages per stage instance.");
  for (const auto& n : nodes)
    out << "telluride_stage_messages_total" << labels(n) << ' ' << n.msg_count << '\n';
  metric("telluride_stage_duration_microseconds", "gauge", "Mean duration of a call over the last 60 calls.");
  for (const auto& n : nodes)
    out << "telluride_stage_duration_microseconds" << labels(n) << ' ' << n.sma_duration << '\n';
  return out.str();
}

} // namespace telluride
