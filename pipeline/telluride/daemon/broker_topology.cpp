#include "telluride/daemon/broker_topology.hpp"

#include <utility>

namespace telluride {

namespace amqp = causeway::amqp;

std::string shard_queue(const route_names& routes, std::uint32_t shard) {
  return routes.readings_queue + "." + std::to_string(shard);
}

std::string members_exchange(const config& cfg) {
  return cfg.state_stream + ".members";
}

std::string members_queue(const config& cfg) {
  return members_exchange(cfg) + "." + cfg.node_name;
}

std::string control_nodes_exchange(const route_names& routes) {
  return routes.control_queue + ".nodes";
}

std::string node_control_queue(const config& cfg) {
  return cfg.routes.control_queue + "." + cfg.node_name;
}

std::string control_lock_queue(const route_names& routes) {
  return routes.control_queue + ".lock";
}

namespace {

amqp::arguments dead_letter_arguments(const route_names& r) {
  return {{"x-dead-letter-exchange", r.exchange}, {"x-dead-letter-routing-key", r.dead_letter_routing_key}};
}

amqp::queue_spec durable_queue(const std::string& name, amqp::arguments args = {}) {
  return amqp::queue_spec{name, true, false, false, std::move(args)};
}

amqp::binding_spec readings_binding(const route_names& r) {
  return {r.readings_queue, r.exchange, r.readings_routing_key, {}};
}

} // namespace

amqp::topology_spec state_stream_topology(const config& cfg) {
  amqp::topology_spec spec;
  spec.queues.push_back(durable_queue(cfg.state_stream, {{"x-queue-type", std::string("stream")},
                                                         {"x-max-length-bytes", state_stream_max_bytes},
                                                         {"x-stream-max-segment-size-bytes", state_stream_segment_bytes}}));
  // Checkpoints are published to an exchange of the stream's name: the daemon's broker user
  // may not publish to the default exchange.
  spec.exchanges.push_back({cfg.state_stream, "fanout", true, false, {}});
  spec.bindings.push_back({cfg.state_stream, cfg.state_stream, "", {}});
  return spec;
}

amqp::topology_spec sharded_readings_topology(const config& cfg) {
  const route_names& r = cfg.routes;
  amqp::topology_spec spec;
  spec.exchanges.push_back(
    {r.shards_exchange, "x-consistent-hash", true, false, {{"hash-header", std::string(sensor_key_header)}}});
  amqp::arguments shard_args = dead_letter_arguments(r);
  shard_args.push_back({"x-single-active-consumer", true});
  for (std::uint32_t shard = 0; shard < cfg.shards; ++shard) {
    spec.queues.push_back(durable_queue(shard_queue(r, shard), shard_args));
    // The consistent-hash exchange reads a binding's routing key as its weight.
    spec.bindings.push_back({shard_queue(r, shard), r.shards_exchange, "1", {}});
  }
  spec.exchange_bindings.push_back({r.shards_exchange, r.exchange, r.readings_routing_key, {}});
  spec.unbindings.push_back(readings_binding(r));
  return spec;
}

amqp::topology_spec broker_topology(const config& cfg, std::uint32_t left_behind) {
  const route_names& r = cfg.routes;
  const bool is_sharded = cfg.shards > 1;
  amqp::topology_spec spec;
  spec.exchanges = {{r.exchange, "direct", true, false, {}}, {r.events_exchange, "direct", true, false, {}}};
  const amqp::arguments dead_letter = dead_letter_arguments(r);
  spec.queues = {durable_queue(r.readings_queue, dead_letter), durable_queue(r.control_queue, dead_letter),
                 durable_queue(r.aggregates_queue), durable_queue(r.metrics_queue), durable_queue(r.alerts_queue),
                 durable_queue(r.throughput_queue), durable_queue(r.events_queue),
                 durable_queue(r.dead_letter_queue)};
  if (!is_sharded)
    spec.bindings.push_back(readings_binding(r));
  spec.bindings.insert(spec.bindings.end(), {
    {r.control_queue, r.exchange, r.control_routing_key, {}},
    {r.aggregates_queue, r.exchange, r.aggregates_routing_key, {}},
    {r.metrics_queue, r.exchange, r.metrics_routing_key, {}},
    {r.alerts_queue, r.exchange, r.alerts_routing_key, {}},
    {r.throughput_queue, r.events_exchange, r.throughput_routing_key, {}},
    {r.events_queue, r.events_exchange, r.events_routing_key, {}},
    {r.dead_letter_queue, r.exchange, r.dead_letter_routing_key, {}},
  });

  if (is_sharded) {
    append(spec, sharded_readings_topology(cfg));
    // Heartbeats of the daemons sharing the shards (shard_coordinator.hpp).
    spec.exchanges.push_back({members_exchange(cfg), "fanout", true, false, {}});
    // Reconfigurations forwarded to every daemon (control_forwarder.hpp).
    spec.exchanges.push_back({control_nodes_exchange(r), "fanout", true, false, {}});
    const std::uint32_t end = std::min(cfg.shards + left_behind, max_shard_queues);
    for (std::uint32_t shard = cfg.shards; shard < end; ++shard)
      spec.unbindings.push_back({shard_queue(r, shard), r.shards_exchange, "1", {}});
  } else {
    spec.deleted_exchanges.push_back(r.shards_exchange);
  }

  if (cfg.state == state_mode::durable)
    append(spec, state_stream_topology(cfg));
  return spec;
}

std::string explain_declaration_failure(const std::string& message) {
  // RabbitMQ closes the connection with 503 COMMAND_INVALID: "unknown exchange type
  // 'x-consistent-hash'" when the type was never registered on the node, "invalid exchange
  // type" when its plugin was disabled after it had been.
  const bool is_type_unknown = message.find("COMMAND_INVALID") != std::string::npos &&
                               message.find("exchange type 'x-consistent-hash'") != std::string::npos;
  if (!is_type_unknown)
    return message;
  return "shards > 1 needs the broker plugin " + std::string(consistent_hash_plugin) +
         ", which is not enabled (" + message + "); enable it with: rabbitmq-plugins enable " +
         std::string(consistent_hash_plugin) + " (deploy/rabbitmq-local.sh does), or set shards to 1";
}

causeway::expected<void> declare_broker_topology(amqp::connection& conn, const config& cfg) {
  std::uint32_t left_behind = 0;
  if (cfg.shards > 1)
    while (cfg.shards + left_behind < max_shard_queues &&
           amqp::inspect_queue(conn, shard_queue(cfg.routes, cfg.shards + left_behind)))
      ++left_behind;
  auto declared = amqp::declare(conn, broker_topology(cfg, left_behind));
  if (!declared)
    return causeway::error{explain_declaration_failure(declared.err().message)};
  return {};
}

} // namespace telluride
