// layout_record.hpp — where the layout in use lives on the broker (docs/checkpoints.md,
// Changing the number of shards): the layout record in the queue `<state_stream>.index.layout`
// (x-max-length 1, bound to the index exchange with the routing key `layout`), the layout
// record a change writes to the state stream, and the lock a daemon holds while it records or
// changes the layout (the exclusive queue `<state_stream>.index.layout.lock`).
#pragma once

#include "telluride/daemon/state_stream.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"
#include "telluride/state/inherited_state.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/publisher.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace telluride {

/// The queue holding the layout record in use (the layout and its inheritance).
std::string layout_queue(const config& cfg);
/// The lock: an exclusive queue, held by the connection that declared it.
std::string layout_lock_queue(const config& cfg);

/// The state stream (state_stream_topology), the index exchange and the layout queue bound to
/// it: what finding the layout needs declared. Pure.
causeway::amqp::topology_spec layout_topology(const config& cfg);

/// The layout in use: none on a fresh deployment.
struct layout_in_use {
  std::optional<std::uint32_t> layout;
  std::shared_ptr<const inherited_state> inherited;
  bool is_recorded = false;  ///< named by the layout queue (else by the stream's last record)
};

/// Reads the layout queue on `admin`; without a record there, the layout of the state stream's
/// last record (read on a connection of its own from `base`, for at most 2 s). A record that
/// does not decode is one line saying how to go on.
expected<layout_in_use> read_layout_in_use(causeway::amqp::connection& admin, const config& cfg,
                                           const causeway::amqp::connection_options& base);

/// Declares the lock on `conn`: true when this connection holds it now, false when another's
/// does.
expected<bool> try_lock_layout(causeway::amqp::connection& conn, const config& cfg);

/// The publishing connection of a layout change: the alerts and aggregates of the old layout's
/// readings, and the layout records. Those are published mandatory: a record the broker routes
/// to no queue (the stream or the layout queue not there, as in the seconds after a broker
/// restart) is counted in `unrouted`, and written again once after layout_topology is declared
/// again, instead of being taken for written.
struct layout_publisher {
  std::shared_ptr<causeway::amqp::publisher> publisher;
  std::shared_ptr<unrouted_records> unrouted;
};

/// Opens it on a connection of its own (`base`, named telluride-layout-publisher).
expected<layout_publisher> open_layout_publisher(const causeway::amqp::connection_options& base, const config& cfg);

/// The layout record of `layout` with `inheritance` in the layout queue, confirmed: the layout
/// in use from now on.
expected<void> record_layout(const layout_publisher& publisher, const config& cfg, std::uint32_t layout,
                             shard_image inheritance);

/// A change to `layout`: its layout record (no state) in the state stream, where the layout's
/// shards start afresh, then record_layout; each confirmed before the next.
expected<void> write_layout_change(const layout_publisher& publisher, const config& cfg, std::uint32_t layout,
                                   shard_image inheritance);

} // namespace telluride
