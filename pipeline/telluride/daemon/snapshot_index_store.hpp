// snapshot_index_store.hpp — where the snapshot index lives on the broker (docs/checkpoints.md,
// Finding the latest snapshot; snapshot_index.hpp has the entries).
//
// One small classic queue per shard of each layout, `<state_stream>.index.<K>.<s>` (durable,
// `x-max-length: 1`: a new entry pushes the previous one out), bound with routing key
// `<K>.<s>` to the direct exchange `<state_stream>.index`. The daemon's broker user may not
// publish to the default exchange (deploy/rabbitmq-users.sh), hence the exchange. A restore
// reads a shard's entry without taking it (basic.get on a channel that is then closed); the
// owner of a shard publishes a new entry, persistent and confirmed, on the checkpoint
// publisher, declaring the exchange, the queue and its binding the first time it writes for
// that shard. A queue that does not exist reads as an error: the restore reads the stream from
// its first record. Thread-safe.
#pragma once

#include "telluride/domain/expected.hpp"
#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/snapshot_index.hpp"

#include <causeway/amqp/publisher.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace telluride {

/// `<stream>.index`: the exchange entries are published to.
std::string snapshot_index_exchange(const std::string& stream);
/// `<stream>.index.<K>.<s>`: the queue holding the entry of shard s of layout K.
std::string snapshot_index_queue(const std::string& stream, shard_identity shard);
/// The exchange and the queue of `shard`'s entry, bound (declared before its first entry).
causeway::amqp::topology_spec snapshot_index_topology(const std::string& stream, shard_identity shard);

class snapshot_index_store {
public:
  /// Reads and writes on `publisher`'s connection (the checkpoint publisher's).
  snapshot_index_store(std::shared_ptr<causeway::amqp::publisher> publisher, std::string stream,
                       std::chrono::milliseconds confirm_timeout = std::chrono::milliseconds{5'000});

  /// The bytes of `shard`'s entry; nothing when none was written; an error when the index
  /// cannot be read (its queue does not exist, the connection is down).
  expected<std::optional<std::string>> read(shard_identity shard);

  /// Stores `entry` and waits for the broker's confirm; one-line errors.
  expected<void> write(const snapshot_index_entry& entry);

private:
  std::shared_ptr<causeway::amqp::publisher> publisher_;
  std::string stream_;
  std::chrono::milliseconds confirm_timeout_;
  std::mutex mutex_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> declared_;  // (layout, shard)
};

} // namespace telluride
