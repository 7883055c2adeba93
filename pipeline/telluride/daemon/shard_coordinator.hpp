// shard_coordinator.hpp — with K > 1 shards, which shards this daemon consumes, agreed with the
// other daemons over the broker (CONTRACT §7; docs/sharding.md).
//
// Two threads of its own:
//   - heartbeats (heartbeat_sender.hpp): every second this daemon's member_heartbeat (node, start
//     id, K, the shards it holds and their states) goes to the fanout exchange
//     `<state_stream>.members`;
//   - the loop (every 100 ms): heartbeats read from this daemon's exclusive queue
//     `<state_stream>.members.<node>` feed causeway::sharding::membership (a node not heard for
//     5 s is gone); in durable mode a tail of the state stream (claims_tail.hpp) says who
//     claimed and who released each shard; shard_assignment over the live members says which
//     shards are this daemon's. When that differs from what it consumes (shard_plan.hpp), it
//     rebalances:
//       1. each gained shard that is free (released, never claimed, or its holder gone; in
//          memory mode: no live member's heartbeat holds it) is claimed and restored
//          (durable_state::take_shard: takeover epoch+1, state read up to it) while the
//          pipeline keeps consuming the others;
//       2. the readings pipeline restarts the way a reconfiguration does, consuming the kept
//          and gained shards: its drain applies every reading taken of a lost shard, and the
//          round before the channels close writes their final checkpoint and acknowledges them;
//       3. each lost shard's release is written and confirmed, and its state dropped.
//     A gained shard that is not free yet waits (another daemon drains it).
// A newer claim by another node on a shard held here (this daemon was taken for gone) fences
// it: its chain stops, the pipeline restarts without it and its state is dropped. A node whose
// K differs from this one's makes it take no shard (one log line); another live process with
// this node name stops the daemon (one line, then SIGTERM's drain).
#pragma once

#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/durable_state.hpp"
#include "telluride/daemon/readings_intake.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/daemon/shard_board.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/publisher.hpp>

#include <functional>
#include <memory>

namespace telluride {

struct shard_coordinator_parts {
  config cfg;
  causeway::amqp::connection_options base;
  std::shared_ptr<causeway::amqp::publisher> publisher;  ///< heartbeats
  std::shared_ptr<durable_state> durable;                ///< null in memory mode
  std::shared_ptr<sensor_tracker> tracker;
  std::shared_ptr<readings_intake> intake;
  /// Each shard's lock, taken on the intake's connection before its takeover and let go after
  /// its release (readings_lock.hpp).
  std::shared_ptr<shard_locks> locks;
  alert_rules rules;
  std::shared_ptr<shard_board> board;
  /// Drains the readings pipeline and starts it again on the intake's shards; false when the
  /// supervisor is gone. Called on the coordinator's thread.
  std::function<bool()> restart_pipeline;
};

class shard_coordinator {
public:
  /// Opens the members queue (and in durable mode the tail of the state stream) and starts the
  /// threads; one-line errors (a node name in use by another daemon names it).
  static expected<std::unique_ptr<shard_coordinator>> start(shard_coordinator_parts parts);
  ~shard_coordinator();
  shard_coordinator(const shard_coordinator&) = delete;
  shard_coordinator& operator=(const shard_coordinator&) = delete;

  /// The threads end (no rebalance starts after it; one under way finishes). Idempotent.
  void stop();
  /// After the pipeline's last drain (its round wrote every shard's final checkpoint): writes
  /// the release of every shard held, so others need not wait for this node's lapse.
  void release_all();

  struct impl;
  explicit shard_coordinator(std::unique_ptr<impl> state);

private:
  std::unique_ptr<impl> impl_;
};

} // namespace telluride
