#include "telluride/tools/route_table.hpp"

#include "telluride/daemon/broker_topology.hpp"

#include <causeway/amqp/topology_declaration.hpp>

#include <array>

namespace telluride::tools {

namespace {

constexpr std::array<std::string_view, 8> names = {
  "aggregates", "metrics", "throughput", "events", "alerts", "readings", "control", "dead_letters"};

} // namespace

std::span<const std::string_view> tail_route_names() noexcept { return names; }

std::optional<route> find_route(const route_names& r, std::string_view name) {
  if (name == "aggregates")
    return route{names[0], r.exchange, r.aggregates_routing_key, r.aggregates_queue};
  if (name == "metrics")
    return route{names[1], r.exchange, r.metrics_routing_key, r.metrics_queue};
  if (name == "throughput")
    return route{names[2], r.events_exchange, r.throughput_routing_key, r.throughput_queue};
  if (name == "events")
    return route{names[3], r.events_exchange, r.events_routing_key, r.events_queue};
  if (name == "alerts")
    return route{names[4], r.exchange, r.alerts_routing_key, r.alerts_queue};
  if (name == "readings")
    return route{names[5], r.exchange, r.readings_routing_key, r.readings_queue};
  if (name == "control")
    return route{names[6], r.exchange, r.control_routing_key, r.control_queue};
  if (name == "dead_letters")
    return route{names[7], r.exchange, r.dead_letter_routing_key, r.dead_letter_queue};
  return std::nullopt;
}

std::string tail_route_list() {
  std::string out;
  for (auto name : names) {
    if (!out.empty())
      out += ", ";
    out += name;
  }
  return out;
}

causeway::expected<void> ensure_exchange(causeway::amqp::connection& conn, const std::string& exchange) {
  // Passive first: a user who may not declare the exchange (deploy/rabbitmq-users.sh's
  // dashboard and sensors users) can still use it once the daemon declared it.
  if (causeway::amqp::inspect_exchange(conn, exchange))
    return {};
  causeway::amqp::topology_spec spec;
  spec.exchanges.push_back({exchange, "direct", true, false, {}});
  return causeway::amqp::declare(conn, spec);
}

causeway::expected<void> ensure_input_route(causeway::amqp::connection& conn, const route_names& routes,
                                            const route& input) {
  namespace amqp = causeway::amqp;
  if (auto declared = ensure_exchange(conn, input.exchange); !declared)
    return declared;
  amqp::topology_spec spec;
  // A passive declare first: a queue that exists keeps whatever arguments it was given.
  if (!amqp::inspect_queue(conn, input.queue)) {
    amqp::arguments args{{"x-dead-letter-exchange", routes.exchange},
                         {"x-dead-letter-routing-key", routes.dead_letter_routing_key}};
    spec.queues.push_back({input.queue, true, false, false, std::move(args)});
  }
  spec.bindings.push_back({input.queue, input.exchange, input.routing_key, {}});
  return amqp::declare(conn, spec);
}

causeway::expected<void> ensure_readings_route(causeway::amqp::connection& conn, const config& cfg) {
  namespace amqp = causeway::amqp;
  const route_names& routes = cfg.routes;
  if (auto declared = ensure_exchange(conn, routes.exchange); !declared)
    return declared;
  if (amqp::inspect_exchange(conn, routes.shards_exchange))
    return {};
  if (cfg.shards <= 1)
    return ensure_input_route(conn, routes, *find_route(routes, "readings"));
  auto spec = sharded_readings_topology(cfg);
  if (!amqp::inspect_queue(conn, routes.readings_queue))
    spec.unbindings.clear();  // nothing to unbind
  if (auto declared = amqp::declare(conn, spec); !declared)
    return causeway::error{explain_declaration_failure(declared.err().message)};
  return {};
}

} // namespace telluride::tools
