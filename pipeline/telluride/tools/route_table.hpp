// route_table.hpp — the broker routes (docs/wire-format.md, Routes) by name, as the tools
// address them.
//
// `tail` names a route (`aggregates`, `events`...) and gets its exchange, routing key and
// durable queue from the config's `routes`. `sensors` and `config set` publish to an input
// route; `ensure_input_route` makes sure that route exists before they do, declaring only what
// is missing, with the arguments the daemon uses (a durable direct exchange, a durable queue
// dead-lettering to the exchange with the dead-letter routing key), so nothing published
// before the daemon's first start is lost, and a queue the daemon declared differently is
// left alone.
#pragma once

#include "telluride/domain/config.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/expected.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace telluride::tools {

struct route {
  std::string_view name;  ///< as `tail` takes it
  std::string exchange;
  std::string routing_key;
  std::string queue;      ///< the durable queue dashboards and the daemon read
};

/// The routes `tail` accepts, in the order its help lists them.
std::span<const std::string_view> tail_route_names() noexcept;

/// The route called `name` (`aggregates`, `metrics`, `throughput`, `events`, `alerts`,
/// `readings`, `control`, `dead_letters`), or nothing.
std::optional<route> find_route(const route_names& routes, std::string_view name);

/// `aggregates, metrics, ...`: for "unknown route" errors.
std::string tail_route_list();

/// Declares the exchange (durable, direct) and binding of an input route, and its queue
/// unless it exists already. `conn` is any connection; not its own thread.
causeway::expected<void> ensure_input_route(causeway::amqp::connection& conn, const route_names& routes,
                                            const route& input);

/// `ensure_input_route` for the readings route, aware of shards (docs/wire-format.md, Shards):
/// when the sharded exchange exists, the daemon runs sharded and nothing is declared (binding
/// the readings queue again would copy every reading into it); otherwise with cfg.shards > 1
/// the sharded route is declared as the daemon declares it (the readings queue, if there,
/// unbound), and with 1 the readings route as before.
causeway::expected<void> ensure_readings_route(causeway::amqp::connection& conn, const config& cfg);

/// Declares a durable direct exchange (what every exchange of docs/wire-format.md is).
causeway::expected<void> ensure_exchange(causeway::amqp::connection& conn, const std::string& exchange);

} // namespace telluride::tools
