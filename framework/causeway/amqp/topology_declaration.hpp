// topology_declaration.hpp — exchanges, queues and bindings, declared idempotently.
//
// Declaring what already exists with the same settings is a no-op for the broker, so a
// program declares its whole topology at start-up. Declaring a queue that exists with other
// arguments fails with PRECONDITION_FAILED; the error names the queue and the argument:
//   declare queue "q": PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' ...
// The `declare_*` functions taking a `channel&` run on the connection thread (inside
// `channel_user::on_open`); the others may be called from any other thread.
#pragma once

#include "causeway/amqp/arguments.hpp"
#include "causeway/amqp/connection.hpp"
#include "causeway/amqp/error.hpp"
#include "causeway/expected.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace causeway::amqp {

struct exchange_spec {
  std::string name;
  std::string type{"direct"};
  bool durable = true;
  bool auto_delete = false;
  arguments args;
};

struct queue_spec {
  std::string name;
  bool durable = true;
  bool exclusive = false;
  bool auto_delete = false;
  arguments args;  ///< x-dead-letter-exchange, x-max-priority, x-message-ttl...
};

struct binding_spec {
  std::string queue;
  std::string exchange;
  std::string routing_key;
  arguments args;
};

/// An exchange-to-exchange binding: what `source` routes with `routing_key` goes on to
/// `destination` too.
struct exchange_binding_spec {
  std::string destination;
  std::string source;
  std::string routing_key;
  arguments args;
};

/// Declared in this order: exchanges, queues, bindings, exchange bindings; then what must no
/// longer be there is removed: unbindings, then deleted exchanges (with their bindings). New
/// routes thus exist before old ones go, so a route that moves never drops a message (one
/// published in between may take both). Removing what is not there is no error as long as
/// the queue and exchange of an unbinding exist; deleting a missing exchange is no error.
struct topology_spec {
  std::vector<exchange_spec> exchanges;
  std::vector<queue_spec> queues;
  std::vector<binding_spec> bindings;
  std::vector<exchange_binding_spec> exchange_bindings;
  std::vector<binding_spec> unbindings;
  std::vector<std::string> deleted_exchanges;
};

/// Appends the parts of `from` to those of `to`, in order.
void append(topology_spec& to, topology_spec from);

/// What a passive queue.declare tells about a queue.
struct queue_state {
  std::uint32_t messages_ready = 0;  ///< not counting delivered-but-unacked messages
  std::uint32_t consumers = 0;
};

// --- connection thread ---
failure declare_exchange(channel& ch, const exchange_spec& spec);
failure declare_queue(channel& ch, const queue_spec& spec);
failure declare_binding(channel& ch, const binding_spec& spec);
failure declare_exchange_binding(channel& ch, const exchange_binding_spec& spec);
failure remove_binding(channel& ch, const binding_spec& spec);
failure remove_exchange(channel& ch, const std::string& exchange);
failure declare_topology(channel& ch, const topology_spec& spec);

// --- any thread but the connection's ---
/// Declares `spec` on a temporary channel of `conn`.
expected<void> declare(connection& conn, const topology_spec& spec);
/// Opens a short-lived connection, declares `spec` and closes it: the daemon's start-up step.
/// An unreachable broker, refused login or PRECONDITION_FAILED comes back as one line.
expected<void> declare(const connection_options& options, const topology_spec& spec);
/// A passive declare: fails with NOT_FOUND when the queue does not exist.
expected<queue_state> inspect_queue(connection& conn, const std::string& queue);
/// A passive declare: fails with NOT_FOUND when the exchange does not exist. Needs no
/// permission on it, unlike declaring it.
expected<void> inspect_exchange(connection& conn, const std::string& exchange);
/// Removes the ready messages of `queue`; returns how many.
expected<std::uint32_t> purge_queue(connection& conn, const std::string& queue);
expected<void> delete_queue(connection& conn, const std::string& queue);
expected<void> delete_exchange(connection& conn, const std::string& exchange);

} // namespace causeway::amqp
