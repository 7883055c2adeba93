// broker_topology.hpp — what the daemon declares on the broker at start-up, for its config.
//
// The routes of docs/wire-format.md (Routes), and with `shards` = K > 1 the sharded readings
// route (Shards and the state stream): the consistent-hash exchange `routes.shards_exchange`
// (x-consistent-hash on the header `sensor_key`), bound from `routes.exchange` with the
// readings routing key, and K shard queues `readings_queue.0` .. `readings_queue.<K-1>`, each
// bound with weight "1", single active consumer, dead-lettering like the input queues. The
// readings queue is then unbound from the readings routing key; with K = 1 it is bound again
// and the sharded exchange deleted (its queues keep what they hold). With `state` durable the
// stream `state_stream` is declared too, and a fanout exchange of the same name bound to it,
// which the daemon publishes its checkpoints to.
//
// `broker_topology` is pure: it builds the declaration. `declare_broker_topology` runs it on a
// connection, after finding the shard queues a larger K left behind, and turns the broker's
// answer to an unknown exchange type into the name of the missing plugin.
#pragma once

#include "telluride/domain/config.hpp"
#include "telluride/domain/sensor_key.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/topology_declaration.hpp>
#include <causeway/expected.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace telluride {

/// The plugin that brings the exchange type x-consistent-hash.
inline constexpr std::string_view consistent_hash_plugin = "rabbitmq_consistent_hash_exchange";

/// Retention of the state stream: the broker drops its oldest segments beyond this many bytes
/// (docs/wire-format.md, The state stream). Part of the stream's declaration: changing it
/// makes the next start fail with PRECONDITION_FAILED until the stream is deleted.
inline constexpr std::int64_t state_stream_max_bytes = std::int64_t{1} << 30;  // 1 GiB
/// Segment files of the state stream: retention removes whole segments, so it cuts at most
/// this much more than needed.
inline constexpr std::int64_t state_stream_segment_bytes = std::int64_t{64} << 20;  // 64 MiB

/// Shard queues exist at most for shards 0..1023 (`shards` is at most 1024).
inline constexpr std::uint32_t max_shard_queues = 1024;

/// The fanout exchange of the members' heartbeats with K > 1: `<state_stream>.members`.
std::string members_exchange(const config& cfg);
/// This daemon's exclusive, auto-deleted queue on it: `<state_stream>.members.<node_name>`.
std::string members_queue(const config& cfg);
/// `readings_queue.<shard>`.
std::string shard_queue(const route_names& routes, std::uint32_t shard);

// Reconfiguring several daemons (K > 1; control_forwarder.hpp).
/// The fanout exchange the control queue's messages are forwarded to: `<control_queue>.nodes`.
std::string control_nodes_exchange(const route_names& routes);
/// This daemon's queue on it, `<control_queue>.<node_name>`: durable, so that a daemon started
/// again under its node name applies what was forwarded meanwhile; deleted by the broker once
/// unused for node_control_queue_expiry_ms, and holding at most node_control_queue_max messages.
std::string node_control_queue(const config& cfg);
inline constexpr std::int64_t node_control_queue_expiry_ms = 24 * 3600 * 1000;
inline constexpr std::int64_t node_control_queue_max = 10000;
/// The lock of the forwarder: whose channel holds `<control_queue>.lock` takes the control queue.
std::string control_lock_queue(const route_names& routes);

/// The state stream (durable mode): the stream `state_stream` with its size retention, and the
/// fanout exchange of its name bound to it. Pure.
causeway::amqp::topology_spec state_stream_topology(const config& cfg);

/// The sharded readings route alone (cfg.shards > 1): the consistent-hash exchange, the shard
/// queues, their bindings, the binding from `routes.exchange`, and the unbinding of the
/// readings queue (which must exist). Pure.
causeway::amqp::topology_spec sharded_readings_topology(const config& cfg);

/// Everything the daemon with `cfg` declares, in order. `left_behind` counts the shard queues
/// past the last one still there from a larger K (readings_queue.<shards> ..
/// readings_queue.<shards + left_behind - 1>): with shards > 1 they are unbound from the
/// sharded exchange, and keep what they hold. Pure.
causeway::amqp::topology_spec broker_topology(const config& cfg, std::uint32_t left_behind = 0);

/// The declaration's error, with the missing plugin named when the broker did not know the
/// exchange type x-consistent-hash (COMMAND_INVALID - unknown exchange type). Pure.
std::string explain_declaration_failure(const std::string& message);

/// Declares `broker_topology(cfg, ...)` on `conn` (any thread but the connection's). With
/// shards > 1 it first counts the shard queues left behind by a larger K (passive declares of
/// readings_queue.K, .K+1, ... up to the first missing one).
causeway::expected<void> declare_broker_topology(causeway::amqp::connection& conn, const config& cfg);

} // namespace telluride
