// durable_state.hpp — the daemon's durable mode (`state: durable`): its sensor state is
// checkpointed to the state stream, and a reading is acknowledged only once a checkpoint
// holding its effect is confirmed (CONTRACT §7; docs/checkpoints.md, Durable mode).
//
// Its parts, in the order the daemon uses them:
//   - the ack gate, put in front of each readings channel's acknowledger (`hook`), which
//     holds every acknowledgement until a checkpoint round releases it;
//   - `restore`, at start, before the pipeline consumes anything: each shard of the tracker
//     is claimed and restored from the stream, from its indexed snapshot when it can
//     (indexed_restore.hpp), its sensors taking places in the max_sensors quota; one log line
//     per shard;
//   - the checkpoint writer (checkpoint_writer.hpp), started after the restore, and the
//     stream follower (stream_follower.hpp), which indexes the snapshots the writer wrote and
//     measures the stream's growth for the writer's retention rule;
//   - `release_held`, called by the readings source before a channel closes (after a drain:
//     shutdown, reconfiguration): one more round, so that what the drained stages acknowledged
//     reaches the broker on the channel it came from;
//   - `stop`: a last round, and the writer ends; the follower indexes what it wrote, and ends.
// This build consumes one readings queue: its state is shard 0 of a layout of 1, whatever
// `shards` says (docs/sharding.md describes what K > 1 will take). Thread-safe.
#pragma once

#include "telluride/daemon/checkpoint_writer.hpp"
#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/part_health.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/daemon/state_stream.hpp"
#include "telluride/daemon/stream_follower.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/ack_gate.hpp>
#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/queue_source.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace telluride {

/// What the last restore found, for /metrics and logs.
struct restore_figures {
  std::uint64_t sensors = 0;
  std::uint64_t records = 0;  ///< read from the stream, every shard's
  std::uint64_t epoch = 0;    ///< the claim's
  std::chrono::milliseconds took{0};
};

/// Durable mode's figures (/metrics).
struct durable_figures {
  checkpoint_stats checkpoints;
  restore_figures restore;
  std::uint64_t held = 0;  ///< acknowledgements the gate holds now
};

class durable_state : public std::enable_shared_from_this<durable_state> {
public:
  durable_state(const config& cfg, std::shared_ptr<part_health> health);
  ~durable_state();
  durable_state(const durable_state&) = delete;
  durable_state& operator=(const durable_state&) = delete;

  /// Puts the gate in front of the readings channels of `options`, and release_held before a
  /// channel closes (while this object lives). Call on an object owned by a shared_ptr.
  void hook(causeway::amqp::queue_source_options& options);

  /// Opens the checkpoint publisher (connection `base`, named telluride-checkpoints), then
  /// claims and restores every shard of `tracker` from the stream. Before any reading is
  /// consumed. One-line errors naming the shard.
  expected<void> restore(const causeway::amqp::connection_options& base, sensor_tracker& tracker,
                         const alert_rules& rules);

  /// Starts the checkpoint writer; `config` gives the early-round threshold (half of
  /// producer_concurrency × prefetch_count).
  void start_writing(std::shared_ptr<sensor_tracker> tracker, std::shared_ptr<const config_store> config);

  /// One round now, waited for (see checkpoint_writer::flush); nothing before start_writing.
  void release_held();

  /// A last round; the writer ends. Idempotent.
  void stop();

  durable_figures figures() const;

private:
  config cfg_;
  std::shared_ptr<part_health> health_;
  std::shared_ptr<causeway::ack_gate> gate_ = std::make_shared<causeway::ack_gate>();
  std::shared_ptr<stream_record_sink> sink_;
  std::vector<shard_chain> chains_;  // from restore to start_writing
  std::shared_ptr<snapshot_index_store> index_;
  std::shared_ptr<stream_meter> meter_ = std::make_shared<stream_meter>();
  record_source_opener follow_;       // the follower's reader
  std::int64_t follow_from_ = -1;     // the earliest claim's offset
  std::unique_ptr<stream_follower> follower_;
  mutable std::mutex mutex_;
  std::shared_ptr<checkpoint_writer> writer_;
  restore_figures restored_;
};

} // namespace telluride
