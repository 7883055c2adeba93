#include "causeway/amqp/topology_declaration.hpp"

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/field_table.hpp"

#include <amqp_framing.h>

#include <algorithm>
#include <functional>
#include <iterator>

namespace causeway::amqp {

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Runs `work` on a temporary channel and waits for it; the error is its failure's line.
expected<void> on_temporary_channel(connection& conn, const std::function<failure(channel&)>& work) {
  failure result;
  bool ran = conn.run_sync([&] { result = conn.with_temporary_channel(work); });
  if (!ran)
    return error{"connection to " + conn.address().endpoint() + " is shut down"};
  if (result)
    return result.to_error();
  return {};
}

} // namespace

void append(topology_spec& to, topology_spec from) {
  auto move_all = [](auto& into, auto& items) { std::move(items.begin(), items.end(), std::back_inserter(into)); };
  move_all(to.exchanges, from.exchanges);
  move_all(to.queues, from.queues);
  move_all(to.bindings, from.bindings);
  move_all(to.exchange_bindings, from.exchange_bindings);
  move_all(to.unbindings, from.unbindings);
  move_all(to.deleted_exchanges, from.deleted_exchanges);
}

failure declare_exchange(channel& ch, const exchange_spec& spec) {
  field_table args(spec.args);
  amqp_exchange_declare(ch.state(), ch.id(), view(spec.name), view(spec.type), 0,
                        spec.durable ? 1 : 0, spec.auto_delete ? 1 : 0, 0, args.get());
  return describe(amqp_get_rpc_reply(ch.state()), "declare exchange " + quoted(spec.name));
}

failure declare_queue(channel& ch, const queue_spec& spec) {
  field_table args(spec.args);
  amqp_queue_declare(ch.state(), ch.id(), view(spec.name), 0, spec.durable ? 1 : 0,
                     spec.exclusive ? 1 : 0, spec.auto_delete ? 1 : 0, args.get());
  return describe(amqp_get_rpc_reply(ch.state()), "declare queue " + quoted(spec.name));
}

failure declare_binding(channel& ch, const binding_spec& spec) {
  field_table args(spec.args);
  amqp_queue_bind(ch.state(), ch.id(), view(spec.queue), view(spec.exchange),
                  view(spec.routing_key), args.get());
  return describe(amqp_get_rpc_reply(ch.state()),
                  "bind queue " + quoted(spec.queue) + " to exchange " + quoted(spec.exchange) +
                    " with key " + quoted(spec.routing_key));
}

failure declare_exchange_binding(channel& ch, const exchange_binding_spec& spec) {
  field_table args(spec.args);
  amqp_exchange_bind(ch.state(), ch.id(), view(spec.destination), view(spec.source),
                     view(spec.routing_key), args.get());
  return describe(amqp_get_rpc_reply(ch.state()),
                  "bind exchange " + quoted(spec.destination) + " to exchange " + quoted(spec.source) +
                    " with key " + quoted(spec.routing_key));
}

failure remove_binding(channel& ch, const binding_spec& spec) {
  field_table args(spec.args);
  amqp_queue_unbind(ch.state(), ch.id(), view(spec.queue), view(spec.exchange),
                    view(spec.routing_key), args.get());
  return describe(amqp_get_rpc_reply(ch.state()),
                  "unbind queue " + quoted(spec.queue) + " from exchange " + quoted(spec.exchange) +
                    " with key " + quoted(spec.routing_key));
}

failure remove_exchange(channel& ch, const std::string& exchange) {
  amqp_exchange_delete(ch.state(), ch.id(), view(exchange), 0);
  return describe(amqp_get_rpc_reply(ch.state()), "delete exchange " + quoted(exchange));
}

failure declare_topology(channel& ch, const topology_spec& spec) {
  for (const auto& e : spec.exchanges)
    if (failure f = declare_exchange(ch, e))
      return f;
  for (const auto& q : spec.queues)
    if (failure f = declare_queue(ch, q))
      return f;
  for (const auto& b : spec.bindings)
    if (failure f = declare_binding(ch, b))
      return f;
  for (const auto& b : spec.exchange_bindings)
    if (failure f = declare_exchange_binding(ch, b))
      return f;
  for (const auto& b : spec.unbindings)
    if (failure f = remove_binding(ch, b))
      return f;
  for (const auto& e : spec.deleted_exchanges)
    if (failure f = remove_exchange(ch, e))
      return f;
  return {};
}

expected<void> declare(connection& conn, const topology_spec& spec) {
  return on_temporary_channel(conn, [&](channel& ch) { return declare_topology(ch, spec); });
}

expected<void> declare(const connection_options& options, const topology_spec& spec) {
  auto conn = connection::open(options);
  if (!conn)
    return conn.err();
  return declare(**conn, spec);
}

expected<queue_state> inspect_queue(connection& conn, const std::string& queue) {
  queue_state state;
  auto done = on_temporary_channel(conn, [&](channel& ch) {
    auto* ok = amqp_queue_declare(ch.state(), ch.id(), view(queue), 1, 0, 0, 0, amqp_empty_table);
    if (ok != nullptr) {
      state.messages_ready = ok->message_count;
      state.consumers = ok->consumer_count;
    }
    return describe(amqp_get_rpc_reply(ch.state()), "inspect queue " + quoted(queue));
  });
  if (!done)
    return done.err();
  return state;
}

expected<void> inspect_exchange(connection& conn, const std::string& exchange) {
  return on_temporary_channel(conn, [&](channel& ch) {
    amqp_exchange_declare(ch.state(), ch.id(), view(exchange), amqp_cstring_bytes("direct"), 1, 0, 0, 0,
                          amqp_empty_table);
    return describe(amqp_get_rpc_reply(ch.state()), "inspect exchange " + quoted(exchange));
  });
}

expected<std::uint32_t> purge_queue(connection& conn, const std::string& queue) {
  std::uint32_t purged = 0;
  auto done = on_temporary_channel(conn, [&](channel& ch) {
    auto* ok = amqp_queue_purge(ch.state(), ch.id(), view(queue));
    if (ok != nullptr)
      purged = ok->message_count;
    return describe(amqp_get_rpc_reply(ch.state()), "purge queue " + quoted(queue));
  });
  if (!done)
    return done.err();
  return purged;
}

expected<void> delete_queue(connection& conn, const std::string& queue) {
  return on_temporary_channel(conn, [&](channel& ch) {
    amqp_queue_delete(ch.state(), ch.id(), view(queue), 0, 0);
    return describe(amqp_get_rpc_reply(ch.state()), "delete queue " + quoted(queue));
  });
}

expected<void> delete_exchange(connection& conn, const std::string& exchange) {
  return on_temporary_channel(conn, [&](channel& ch) { return remove_exchange(ch, exchange); });
}

} // namespace causeway::amqp
