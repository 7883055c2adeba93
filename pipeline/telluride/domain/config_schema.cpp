// The table itself, and what renders it: defaults, JSON, Markdown. Validation against it is in
// config_validation.cpp.
#include "telluride/domain/config_schema.hpp"

#include <type_traits>

namespace telluride {

namespace {

using json = nlohmann::json;

template <auto field>
void store_count(config& cfg, const json& value) {
  using type = std::remove_reference_t<decltype(cfg.*field)>;
  cfg.*field = value.get<type>();
}

template <auto field>
json load_count(const config& cfg) {
  return cfg.*field;
}

template <auto field>
void store_ms(config& cfg, const json& value) {
  cfg.*field = std::chrono::milliseconds(value.get<std::int64_t>());
}

template <auto field>
json load_ms(const config& cfg) {
  return (cfg.*field).count();
}

template <auto field>
void store_string(config& cfg, const json& value) {
  cfg.*field = value.get<std::string>();
}

template <auto field>
json load_string(const config& cfg) {
  return cfg.*field;
}

void store_http_listen(config& cfg, const json& value) {
  cfg.http_listen = parse_host_port(value.get<std::string>()).value();
}

json load_http_listen(const config& cfg) {
  return to_string(cfg.http_listen);
}

void store_thresholds(config& cfg, const json& value) {
  cfg.alert_thresholds.clear();
  for (const auto& [type, threshold] : value.items())
    cfg.alert_thresholds.emplace(type, threshold.get<double>());
}

json load_thresholds(const config& cfg) {
  json out = json::object();
  for (const auto& [type, threshold] : cfg.alert_thresholds)
    out[type] = threshold;
  return out;
}

void store_routes(config& cfg, const json& value) {
  for (const route_spec& route : route_options())
    if (const auto found = value.find(route.key); found != value.end())
      cfg.routes.*route.field = found->get<std::string>();
}

void store_state(config& cfg, const json& value) {
  cfg.state = value.get<std::string>() == "memory" ? state_mode::memory : state_mode::durable;
}

json load_state(const config& cfg) {
  return cfg.state == state_mode::memory ? "memory" : "durable";
}

json load_routes(const config& cfg) {
  json out = json::object();
  for (const route_spec& route : route_options())
    out[std::string(route.key)] = cfg.routes.*route.field;
  return out;
}

// clang-format off
constexpr option_spec options_table[] = {
  {"producer_concurrency", option_kind::integer, 1, 64, "1",
   "producer stages, each consuming on its own AMQP channel", true,
   store_count<&config::producer_concurrency>, load_count<&config::producer_concurrency>},
  {"processor_concurrency", option_kind::integer, 1, 1024, "2",
   "processor stages (parse readings; each sensor always goes to the same one)", true,
   store_count<&config::processor_concurrency>, load_count<&config::processor_concurrency>},
  {"sensor_batcher_one_concurrency", option_kind::integer, 1, 1024, "2",
   "batch processors of batcher one", true,
   store_count<&config::sensor_batcher_one_concurrency>,
   load_count<&config::sensor_batcher_one_concurrency>},
  {"sensor_batcher_two_concurrency", option_kind::integer, 1, 1024, "2",
   "batch processors of batcher two", true,
   store_count<&config::sensor_batcher_two_concurrency>,
   load_count<&config::sensor_batcher_two_concurrency>},
  {"sensor_batcher_one_batch_size", option_kind::integer, 1, 100000, "100",
   "messages per batch in batcher one", true,
   store_count<&config::sensor_batcher_one_batch_size>,
   load_count<&config::sensor_batcher_one_batch_size>},
  {"sensor_batcher_two_batch_size", option_kind::integer, 1, 100000, "100",
   "messages per batch in batcher two", true,
   store_count<&config::sensor_batcher_two_batch_size>,
   load_count<&config::sensor_batcher_two_batch_size>},
  {"batch_timeout_ms", option_kind::integer, 1, 600000, "100",
   "milliseconds after which a partial batch is flushed (sooner when the prefetch window is full)", true,
   store_ms<&config::batch_timeout>, load_ms<&config::batch_timeout>},
  {"rate_limit_allowed", option_kind::integer, 0, 1000000000, "0",
   "at most this many messages per rate_limit_interval over all producers; 0 = unlimited", true,
   store_count<&config::rate_limit_allowed>, load_count<&config::rate_limit_allowed>},
  {"rate_limit_interval", option_kind::integer, 1, 3600000, "1000",
   "the rate limit's window, in milliseconds", true,
   store_ms<&config::rate_limit_interval>, load_ms<&config::rate_limit_interval>},
  {"prefetch_count", option_kind::integer, 1, 65535, "1000",
   "AMQP qos: unacknowledged deliveries per producer channel", true,
   store_count<&config::prefetch_count>, load_count<&config::prefetch_count>},
  {"amqp_url", option_kind::amqp_url, 0, 0, R"("amqp://guest:guest@127.0.0.1:5672/%2f")",
   "the broker; --amqp, then TELLURIDE_AMQP_URL, override it", false,
   store_string<&config::amqp_url>, load_string<&config::amqp_url>},
  {"http_listen", option_kind::host_port, 0, 0, R"("127.0.0.1:9464")",
   "HOST:PORT of the HTTP server (metrics, health, API, dashboard); --http overrides it", false,
   store_http_listen, load_http_listen},
  {"http_token", option_kind::string, 0, 0, R"("")",
   "bearer token that POST /api/config requires; empty refuses every POST", false,
   store_string<&config::http_token>, load_string<&config::http_token>},
  {"aggregate_interval_ms", option_kind::integer, 1, 3600000, "1000",
   "milliseconds between publishing the aggregates of sensors that changed", false,
   store_ms<&config::aggregate_interval>, load_ms<&config::aggregate_interval>},
  {"metrics_interval_ms", option_kind::integer, 1, 3600000, "1000",
   "milliseconds between publishing node metrics and throughput", false,
   store_ms<&config::metrics_interval>, load_ms<&config::metrics_interval>},
  {"alert_after", option_kind::integer, 1, 1000000, "3",
   "consecutive readings above the threshold that raise one alert", false,
   store_count<&config::alert_after>, load_count<&config::alert_after>},
  {"alert_thresholds", option_kind::thresholds, 0, 0,
   R"({"default": 100.0, "humidity": 90.0, "temperature": 80.0})",
   "sensor type → threshold (a reading above it is a warning); \"default\" is required and "
   "applies to readings without a type or with an unlisted one; temperature in °C, humidity "
   "in % RH", false,
   store_thresholds, load_thresholds},
  {"max_sensors", option_kind::integer, 0, 1000000000, "0",
   "sensors tracked at most (each holds ~200 bytes for good); readings of new sensors beyond "
   "it are dead-lettered; 0 = sized from memory: a quarter of physical memory at 256 bytes per "
   "sensor, logged at start-up; --max-sensors overrides it", false,
   store_count<&config::max_sensors>, load_count<&config::max_sensors>},
  {"node_name", option_kind::node_name, 0, 0, R"("")",
   "this daemon's name among the daemons sharing the shards (at most 128 bytes); \"\" = "
   "HOSTNAME-PID; --node overrides it", false,
   store_string<&config::node_name>, load_string<&config::node_name>},
  {"shards", option_kind::integer, 1, 1024, "1",
   "readings queues (shards): N > 1 spreads readings by their sensor_key header over the "
   "queues readings_queue.0 .. readings_queue.N-1 behind the consistent-hash exchange "
   "routes.shards_exchange (needs the broker plugin rabbitmq_consistent_hash_exchange); 1 = "
   "readings_queue alone; --shards overrides it", false,
   store_count<&config::shards>, load_count<&config::shards>},
  {"state", option_kind::state_mode, 0, 0, R"("durable")",
"\"durable\": each shard's state is checkpointed to state_stream, and a reading is "
   "acknowledged once a checkpoint holding it is confirmed: aggregates survive restarts and "
   "kill -9; \"memory\": in the process only; --state overrides it",
   false, store_state, load_state},
  {"state_stream", option_kind::queue_name, 0, 0, R"("telluride_state")",
   "the RabbitMQ stream of the shards' checkpoints, declared at start-up when state is "
   "\"durable\"; --state-stream overrides it", false,
   store_string<&config::state_stream>, load_string<&config::state_stream>},
  {"checkpoint_interval_ms", option_kind::integer, 1, 60000, "100",
   "milliseconds between checkpoints of a shard's changes (state \"durable\"); "
   "--checkpoint-interval-ms overrides it", false,
   store_ms<&config::checkpoint_interval>, load_ms<&config::checkpoint_interval>},
  {"routes", option_kind::routes, 0, 0, "{}",
   "broker names overriding those of docs/wire-format.md (Routes), by route key (the routes.* rows)", false,
   store_routes, load_routes},
};

constexpr route_spec routes_table[] = {
  {"exchange", "sensor_events", "direct exchange of readings, control, outputs and dead letters",
   &route_names::exchange},
  {"events_exchange", "broadway_events", "direct exchange of throughput and pipeline events",
   &route_names::events_exchange},
  {"readings_routing_key", "sensor.reading", "routing key of readings (in)",
   &route_names::readings_routing_key},
  {"readings_queue", "sensor_reading_queue", "queue of readings (in)",
   &route_names::readings_queue},
  {"control_routing_key", "sensor.config", "routing key of reconfigurations (in)",
   &route_names::control_routing_key},
  {"control_queue", "broadway_config_queue", "queue of reconfigurations (in)",
   &route_names::control_queue},
  {"aggregates_routing_key", "sensor.health", "routing key of sensor aggregates (out)",
   &route_names::aggregates_routing_key},
  {"aggregates_queue", "sensor_health_queue", "queue of sensor aggregates (out)",
   &route_names::aggregates_queue},
  {"metrics_routing_key", "sensor.metric", "routing key of node metrics (out)",
   &route_names::metrics_routing_key},
  {"metrics_queue", "sensor_metric_queue", "queue of node metrics (out)",
   &route_names::metrics_queue},
  {"alerts_routing_key", "sensor.alert", "routing key of alerts (out)",
   &route_names::alerts_routing_key},
  {"alerts_queue", "sensor_alert_queue", "queue of alerts (out)", &route_names::alerts_queue},
  {"throughput_routing_key", "broadway.throughput", "routing key of throughput (out)",
   &route_names::throughput_routing_key},
  {"throughput_queue", "broadway_throughput_queue", "queue of throughput (out)",
   &route_names::throughput_queue},
  {"events_routing_key", "broadway.event", "routing key of pipeline events (out)",
   &route_names::events_routing_key},
  {"events_queue", "broadway_event_queue", "queue of pipeline events (out)",
   &route_names::events_queue},
  {"dead_letter_routing_key", "dlx_key", "routing key of dead letters (failed inputs)",
   &route_names::dead_letter_routing_key},
  {"dead_letter_queue", "dlx_queue", "queue of dead letters", &route_names::dead_letter_queue},
  {"shards_exchange", "sensor_shards",
   "consistent-hash exchange of readings when shards > 1, hashing the header sensor_key",
   &route_names::shards_exchange},
};
// clang-format on

std::string_view kind_name(option_kind kind) noexcept {
  switch (kind) {
    case option_kind::integer: return "integer";
    case option_kind::string: return "string";
    case option_kind::amqp_url: return "string";
    case option_kind::host_port: return "string";
    case option_kind::thresholds: return "object";
    case option_kind::routes: return "object";
    case option_kind::node_name: return "string";
    case option_kind::state_mode: return "string";
    case option_kind::queue_name: return "string";
  }
  return "";
}

std::string allowed_values(const option_spec& spec) {
  switch (spec.kind) {
    case option_kind::integer: return std::to_string(spec.min) + ".." + std::to_string(spec.max);
    case option_kind::string: return "any";
    case option_kind::amqp_url: return "`amqp://` or `amqps://` URL";
    case option_kind::host_port: return "`HOST:PORT`";
    case option_kind::thresholds: return "type → number, with `default`";
    case option_kind::routes: return "route key → name";
    case option_kind::node_name: return "0..128 bytes";
    case option_kind::state_mode: return "`durable` or `memory`";
    case option_kind::queue_name: return "queue name";
  }
  return "";
}

} // namespace

std::span<const option_spec> config_options() noexcept {
  return options_table;
}

std::span<const route_spec> route_options() noexcept {
  return routes_table;
}

const option_spec* find_option(std::string_view key) noexcept {
  for (const option_spec& spec : options_table)
    if (spec.key == key)
      return &spec;
  return nullptr;
}

config::config() {
  for (const route_spec& route : routes_table)
    routes.*route.field = std::string(route.default_name);
  for (const option_spec& spec : options_table)
    spec.store(*this, json::parse(spec.default_json, nullptr, false));
}

nlohmann::json to_json(const config& cfg, secrets mode) {
  json out = json::object();
  for (const option_spec& spec : options_table)
    out[std::string(spec.key)] = spec.load(cfg);
  if (mode == secrets::masked) {
    out["amqp_url"] = mask_password(cfg.amqp_url);
    if (!cfg.http_token.empty())
      out["http_token"] = "***";
  }
  return out;
}

nlohmann::json reconfiguration_to_json(const config& cfg) {
  json out = json::object();
  for (const option_spec& spec : options_table)
    if (spec.is_reconfigurable)
      out[std::string(spec.key)] = spec.load(cfg);
  return out;
}

std::string markdown_reference() {
  std::string out = "| key | type | allowed | default | runtime | meaning |\n"
                    "| --- | --- | --- | --- | --- | --- |\n";
  for (const option_spec& spec : options_table) {
    const bool has_rows_below = spec.kind == option_kind::routes;
    out.append("| `").append(spec.key).append("` | ").append(kind_name(spec.kind));
    out.append(" | ").append(allowed_values(spec)).append(" | ");
    if (has_rows_below)
      out.append("see `routes.*`");
    else
      out.append("`").append(spec.default_json).append("`");
    out.append(" | ").append(spec.is_reconfigurable ? "yes" : "no");
    out.append(" | ").append(spec.help).append(" |\n");
  }
  for (const route_spec& route : routes_table)
    out.append("| `routes.").append(route.key).append("` | string | name | `")
        .append(route.default_name).append("` | no | ").append(route.help).append(" |\n");
  return out;
}

} // namespace telluride
