// readings_lock.hpp — with `shards` 1, one daemon at a time consumes the readings queue
// (docs/sharding.md, One shard, several daemons).
//
// The lock is the exclusive queue `<readings_queue>.lock`, declared on the connection the
// readings are consumed on: the broker lets one connection hold it, and drops it with that
// connection. A daemon takes it before it restores its state; a second daemon waits for it
// (standby) and restores only once it holds it, so it starts from everything the first one
// checkpointed. Every readings channel declares it again before it consumes
// (queue_source_options::before_consume), so no channel ever consumes without it.
//
// Acknowledgements travel on that same connection. An acknowledgement sent while the lock is
// held covers a reading whose checkpoint the broker confirmed before: that checkpoint is in
// the stream before any later holder's takeover, which restores it. Once the connection is
// lost, the lock is lost with it and another daemon may have taken it, restored and moved on:
// in durable mode the state held here may then be stale, so the channels do not consume again
// on it; `on_stale` asks the daemon to restore first (it restarts its parts, takes the lock
// again and restores). In memory mode there is nothing to restore: the channels take the lock
// again and consume on.
#pragma once

#include "telluride/domain/expected.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/error.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace telluride {

/// Declares `queue` transient, exclusive and auto-deleted on `conn`: true when this connection
/// holds it now, false while another connection does (RESOURCE_LOCKED); any other failure is a
/// one-line error naming the queue. The lock of the readings, of each shard and of a layout
/// change. Not on the connection's thread.
expected<bool> take_exclusive_lock(causeway::amqp::connection& conn, const std::string& queue);

/// What a channel about to consume does (a pure rule, tested as a table).
enum class lock_step : std::uint8_t {
  declare,  ///< declare the lock (held already by this connection: a no-op) and consume
  stale,    ///< the lock went with a lost connection and the state must be restored first
};

/// `losses_at_take`: the connection's losses when the lock was taken; `losses_now`: now.
lock_step next_lock_step(std::uint64_t losses_at_take, std::uint64_t losses_now, bool restores_after_loss) noexcept;

class readings_lock {
public:
  /// `restores_after_loss`: durable mode. `on_stale` runs once, on the connection thread.
  readings_lock(std::string lock_queue, bool restores_after_loss, std::function<void()> on_stale);

  /// Declares the lock on `conn` (the readings connection): true when it holds it now, false
  /// while another connection does. Not on the connection's thread.
  expected<bool> try_take(causeway::amqp::connection& conn);

  /// Lets the lock go (deletes the queue) on `conn`, where try_take took it. Not on the
  /// connection's thread.
  expected<void> release(causeway::amqp::connection& conn);

  /// For queue_source_options::before_consume (the connection's thread).
  causeway::amqp::failure before_consume(causeway::amqp::channel& ch);

  const std::string& queue() const noexcept { return queue_; }

private:
  std::string queue_;
  bool restores_after_loss_;
  std::function<void()> on_stale_;
  std::atomic<causeway::amqp::connection*> conn_{nullptr};
  std::atomic<std::uint64_t> losses_at_take_{0};
  std::atomic<bool> said_stale_{false};
};

/// `<readings_queue>.lock`.
std::string readings_lock_queue(const std::string& readings_queue);

/// With K > 1 shards, the same lock per shard: `<readings_queue>.<s>.lock`, on the readings
/// connection, taken before the shard's takeover and let go after its release
/// (docs/sharding.md, The handover protocol). A holder taken for gone while its connection
/// lives (a stalled heartbeat) keeps its lock, so no other daemon claims the shard and applies
/// readings beside it. After a lost connection the rule is readings_lock's: in durable mode
/// `on_stale` (the daemon restarts its parts: every shard is claimed and restored again), in
/// memory mode each shard channel takes its lock again and consumes on. Thread-safe.
class shard_locks {
public:
  shard_locks(std::string readings_queue, bool restores_after_loss, std::function<void()> on_stale)
    : readings_queue_(std::move(readings_queue)), restores_after_loss_(restores_after_loss),
      on_stale_(std::move(on_stale)) {}

  /// True when this connection holds shard `shard`'s lock now, false while another does.
  expected<bool> try_take(std::uint32_t shard, causeway::amqp::connection& conn);
  /// Lets it go; nothing when it is not held here.
  expected<void> release(std::uint32_t shard, causeway::amqp::connection& conn);
  /// For the shard source's before_consume: fails while the lock is not held here.
  causeway::amqp::failure before_consume(std::uint32_t shard, causeway::amqp::channel& ch);

private:
  std::shared_ptr<readings_lock> held(std::uint32_t shard) const;

  std::string readings_queue_;
  bool restores_after_loss_;
  std::function<void()> on_stale_;
  mutable std::mutex mutex_;
  std::map<std::uint32_t, std::shared_ptr<readings_lock>> held_;
};

} // namespace telluride
