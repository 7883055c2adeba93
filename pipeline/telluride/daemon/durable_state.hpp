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
//     measures the stream's growth for the writer's retention rule (with K > 1 from the first
//     shard taken);
//   - `release_held`, called by the readings source before a channel closes (after a drain:
//     shutdown, reconfiguration): one more round, so that what the drained stages acknowledged
//     reaches the broker on the channel it came from;
//   - `stop`: a last round, and the writer ends; the follower indexes what it wrote, and ends.
// With shards 1 the state is shard 0 of a layout of 1, restored at start. With K > 1 shards
// nothing is restored at start: the shard coordinator takes shards (`take_shard`: claim,
// restore into the tracker's slot, written by every round from then on) and gives them up
// (`release_shard`, after the drain whose last round held the final checkpoint and released
// the acknowledgements) as the assignment says (docs/sharding.md). Thread-safe.
#pragma once

#include "telluride/daemon/checkpoint_writer.hpp"
#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/part_health.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/daemon/state_stream.hpp"
#include "telluride/daemon/stream_follower.hpp"
#include "telluride/telemetry/throughput.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/ack_gate.hpp>
#include <causeway/amqp/channel.hpp>
#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/queue_source.hpp>

#include <chrono>
#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace telluride {

/// What the last restore found, for /metrics and logs.
struct restore_figures {
  std::uint64_t sensors = 0;
  std::uint64_t records = 0;  ///< read from the stream, every shard's
  std::uint64_t epoch = 0;    ///< the claim's
  std::chrono::milliseconds took{0};
};

/// A shard taken over (take_shard).
struct shard_taken {
  std::uint64_t epoch = 0;  ///< of its claim
  std::chrono::milliseconds took{0};  ///< from the claim to the end of the restore
};

/// Durable mode's figures (/metrics).
struct durable_figures {
  checkpoint_stats checkpoints;
  restore_figures restore;
  std::uint64_t held = 0;  ///< acknowledgements the gate holds now
  std::uint64_t chain_breaks = 0;  ///< broken chains the stream follower found since start
};

/// After a lost connection: `reads_at_loss` readings were in the state (or a shard's slot) as the
/// previous life ended, `restored_reads` are in what was restored. The difference was applied
/// after the last confirmed checkpoint and is applied again, as are `failed_held` failures: the
/// throughput totals take them back, so that they count once; one log line names `what` (the
/// state, or a shard). Returns the readings taken back.
std::uint64_t count_reapplied_once(throughput& totals, std::uint64_t reads_at_loss, std::uint64_t restored_reads,
                                   std::uint64_t failed_held, std::string_view what);

/// How long after the readings' prefetch window was last full the rounds count as behind a
/// backlog (early_round_mark): the span for which the consuming connection reads short too.
inline constexpr std::chrono::milliseconds backlog_span = causeway::amqp::backlog_span;

/// The unsealed acknowledgements at which the gate starts a round before the interval
/// (docs/checkpoints.md, Sizing): a third of `window` (producers × prefetch_count), a sixth
/// while the window was full within `backlog_span` before `now`. `last_full` is the time
/// since the clock's epoch of the last fill, 0 for none.
std::size_t early_round_mark(std::size_t window, std::chrono::steady_clock::duration last_full,
                             std::chrono::steady_clock::duration now) noexcept;

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

  /// K > 1: claims shard `shard` of the layout, restores it into the tracker's slot (before any
  /// of its readings is consumed), and rounds write it from then on. Its epoch and the time it
  /// took, or a one-line error naming the shard (nothing changed then). After start_writing.
  expected<shard_taken> take_shard(const causeway::amqp::connection_options& base,
                                                 sensor_tracker& tracker, const alert_rules& rules,
                                                 std::uint32_t shard);
  /// K > 1: rounds leave shard `shard` out, and its `release` record is written and confirmed.
  /// Call once the shard's readings are drained and a round confirmed its final state.
  expected<void> release_shard(std::uint32_t shard);

  /// K > 1, fenced (another node claimed the shard above our epoch): rounds leave it out; no
  /// release is written (the claim is no longer ours).
  void drop_shard(std::uint32_t shard);

  /// Starts the checkpoint writer; `config` gives the early-round threshold (half of
  /// producer_concurrency × prefetch_count).
  void start_writing(std::shared_ptr<sensor_tracker> tracker, std::shared_ptr<const config_store> config);

  /// One round now, waited for (see checkpoint_writer::flush); nothing before start_writing.
  void release_held();

  /// A last round; the writer ends. Idempotent.
  void stop();

  durable_figures figures() const;

  /// Failed readings whose settlement the gate still holds: after stop, those no round let
  /// through (the broker delivers them again).
  std::size_t held_failed() const { return gate_->held_failed(); }

  /// K > 1, after a lost connection: `reads_at_loss[s]` is what slot s counted as the previous
  /// life ended (sensor_tracker::total_reads_in). A shard taken again takes back from `totals`
  /// what its restored state lacks of that: those readings are delivered and applied again.
  void count_once_again(std::shared_ptr<throughput> totals, std::vector<std::uint64_t> reads_at_loss);

private:
  /// Claims and restores `identity` into the tracker's `slot`: its chain, and the time it took.
  expected<std::pair<shard_chain, std::chrono::milliseconds>>
  restore_one(const causeway::amqp::connection_options& base, sensor_tracker& tracker, const alert_rules& rules,
              shard_identity identity, std::size_t slot);

  /// Reads the state stream with `connection`, from an offset or from its first record.
  record_source_opener stream_opener(causeway::amqp::connection_options connection) const;
  /// Starts the follower (it indexes this node's snapshots) from the earliest claim, once
  /// there is a claim and a writer, unless it runs.
  void follow_if_idle();

  config cfg_;
  std::shared_ptr<part_health> health_;
  std::shared_ptr<causeway::ack_gate> gate_ = std::make_shared<causeway::ack_gate>();
  /// When the readings' window was last full, since the steady clock's epoch (early_round_mark).
  std::shared_ptr<std::atomic<std::chrono::steady_clock::rep>> last_full_ =
    std::make_shared<std::atomic<std::chrono::steady_clock::rep>>(0);
  std::shared_ptr<stream_record_sink> sink_;
  std::vector<shard_chain> chains_;  // from restore to start_writing
  std::shared_ptr<snapshot_index_store> index_;
  std::shared_ptr<stream_meter> meter_ = std::make_shared<stream_meter>();
  record_source_opener follow_;    // the follower's reader
  std::int64_t follow_from_ = -1;  // the earliest claim's offset
  std::unique_ptr<stream_follower> follower_;
  mutable std::mutex mutex_;
  std::shared_ptr<checkpoint_writer> writer_;
  restore_figures restored_;
  /// Kept here, not in a follower: counted across the followers of this state's life.
  std::shared_ptr<std::atomic<std::uint64_t>> chain_breaks_ = std::make_shared<std::atomic<std::uint64_t>>(0);
  std::shared_ptr<throughput> again_totals_;   // count_once_again
  std::vector<std::uint64_t> reads_at_loss_;   // by shard; 0 once taken again
};

} // namespace telluride
