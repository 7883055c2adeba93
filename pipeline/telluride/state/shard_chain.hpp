// shard_chain.hpp — the writer's side of one shard's records: what the shard's owner writes
// next (kind, sequence, base, epoch), so that what it writes always folds (checkpoint_fold.hpp,
// docs/checkpoints.md, Writing a shard).
//
// The rules it keeps:
//  - sequences go on from the last one the owner read when it restored the shard (its takeover
//    included), one more per record, and a record whose write failed keeps its sequence (it
//    may have reached the stream all the same);
//  - a new owner's first record is a snapshot (so is the first record of a fresh stream), and
//    so is the record after a failed write: whether the failed one landed is unknown, and a
//    snapshot folds either way (a delta would need what the lost one held); a release may
//    come right after a failed write (the fold admits a gap before a release: rule 6 of
//    checkpoint_fold.hpp);
//  - a delta builds on the snapshot in use; snapshots come again often enough that a restore
//    stays short (policy: deltas since the snapshot, their bytes against the snapshot's, the
//    stream's growth since it) and that the stream's retention never cuts the latest one off
//    (bytes written to the stream since this shard's snapshot: this writer's records as the
//    broker confirms them, and other writers' as a stream_meter that follows the stream counts
//    them).
// Pure: no broker, no clock (times come in).
#pragma once

#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/stream_meter.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace telluride {

/// When a snapshot replaces the next delta.
struct snapshot_policy {
  /// Deltas after a snapshot at most: a restore folds at most this many.
  std::uint64_t max_deltas = 600;
  /// Delta bytes after a snapshot at most, as a multiple of the snapshot's size (a restore
  /// reads at most (1 + this) snapshots' worth) ...
  std::uint64_t delta_bytes_per_snapshot_byte = 2;
  /// ... once the stream grew by at least this since the snapshot. A restore reads the stream
  /// from the shard's snapshot to its end, every shard's records: reading this much is cheap,
  /// and a small shard that rewrote its snapshot sooner spent a third of its checkpoint bytes
  /// on it (docs/checkpoints.md, Writing a shard). Counting the stream, not the shard's own
  /// deltas, keeps a restore of one of K small shards as short as one of a single shard.
  std::uint64_t min_stream_bytes = std::uint64_t{4} << 20;
  /// Bytes written to the stream (by every shard of the writer) since this shard's snapshot at
  /// most, so the stream's retention (1 GiB, broker_topology.hpp) keeps the snapshot: a
  /// snapshot follows even when the shard changed nothing.
  std::uint64_t max_stream_bytes = std::uint64_t{256} << 20;
};

class shard_chain {
public:
  /// The chain of `shard` as its owner `owner` goes on with it under `epoch` (its takeover's),
  /// after reading records up to sequence `last_read` (0: none). Its first record is a snapshot.
  shard_chain(shard_identity shard, std::string owner, std::uint64_t epoch, std::uint64_t last_read,
              snapshot_policy policy = {});

  /// Whether the next record must be a snapshot (first record, a failed write, the policy).
  bool wants_snapshot() const noexcept;
  /// Whether a record is due even though the shard changed nothing: its first snapshot, the
  /// snapshot after a failed write, or one the retention rule asks for.
  bool is_due() const noexcept;

  /// The header of the next record (a snapshot or a delta, as `kind` says; a delta only when
  /// !wants_snapshot()), written at `now_ms`. Takes its sequence.
  record_header next(record_kind kind, std::int64_t now_ms);
  /// The record with `header` is confirmed by the broker; it is `bytes` long.
  void confirmed(const record_header& header, std::size_t bytes);
  /// A record's write failed or timed out: it may or may not be in the stream.
  void failed() noexcept;
  /// Records of `bytes` (this writer's: this shard's or another's), each counted as in a
  /// stream_meter::counted_bytes, reached the stream.
  void stream_grew(std::size_t bytes) noexcept { stream_bytes_since_snapshot_ += bytes; }
  /// Also counts what `meter` measures (other writers' records) towards the growth of the
  /// stream; from the next confirmed snapshot on (until then, from now).
  void measure_stream_with(std::shared_ptr<const stream_meter> meter);
  /// Bytes the stream grew by since this shard's snapshot, as far as this chain knows: this
  /// writer's records and the meter's.
  std::uint64_t stream_bytes_since_snapshot() const noexcept;

  const shard_identity& shard() const noexcept { return shard_; }
  std::uint64_t epoch() const noexcept { return epoch_; }
  /// The last sequence taken (0: none yet).
  std::uint64_t last_sequence() const noexcept { return next_ - 1; }
  /// The confirmed snapshot deltas build on, if any.
  const std::optional<std::uint64_t>& snapshot() const noexcept { return snapshot_; }

private:
  shard_identity shard_;
  std::string owner_;
  std::uint64_t epoch_;
  snapshot_policy policy_;
  std::uint64_t next_;                     // the next record's sequence
  std::optional<std::uint64_t> snapshot_;  // confirmed, and no write failed since
  bool must_snapshot_ = true;
  std::uint64_t snapshot_bytes_ = 0;
  std::uint64_t deltas_since_snapshot_ = 0;
  std::uint64_t delta_bytes_since_snapshot_ = 0;
  std::uint64_t stream_bytes_since_snapshot_ = 0;
  std::shared_ptr<const stream_meter> meter_;
  std::uint64_t meter_at_snapshot_ = 0;
};

/// The takeover record with which `owner` claims `shard` under `epoch`, after reading records
/// up to `last_read` (0: none) on the snapshot `snapshot` (none: 0).
checkpoint_record takeover_record(shard_identity shard, const std::string& owner, std::uint64_t epoch,
                                  std::uint64_t last_read, std::optional<std::uint64_t> snapshot,
                                  std::int64_t now_ms);

} // namespace telluride
