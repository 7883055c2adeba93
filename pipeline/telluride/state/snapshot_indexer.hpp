// snapshot_indexer.hpp — which of an owner's snapshots may be indexed (snapshot_index.hpp), as
// the owner reads the state stream back in order (docs/checkpoints.md, Finding the latest
// snapshot).
//
// Reading the stream from an indexed snapshot must fold exactly as reading it from the first
// record: the same state, the same fence, the same next sequence. That holds for a snapshot
// that the fold, reading from the first record, admits: at that point the fence is the
// snapshot's own (epoch, owner), and a snapshot replaces all state. So the indexer keeps, per
// shard, the fence as the fold does (checkpoint_fold.hpp, rule 3) over the records it reads,
// and offers an entry for a snapshot of its owner when the fence, with it, is its owner's at
// the snapshot's epoch and its sequence is above every sequence read for the shard. A
// snapshot written after another owner's newer claim (this owner was fenced off without
// knowing it) is never offered, nor a copy of an older record (a publisher's retry: reading
// from there would skip the records between the original and the copy).
//
// The reader must start at or before its owner's takeover of each shard it indexes (the
// restore's own takeover, read back), so that every claim after it is seen.
//
// It also notices a broken chain of its owner: a delta whose sequence skips records after the
// last one read. A write that failed is followed by a snapshot or a release, never by a delta
// (shard_chain.hpp), so the missing records were confirmed by the broker and yet are not in
// the stream; a restore cannot fold past the delta until the shard's next snapshot, which the
// owner should then write at once. Pure: no broker.
#pragma once

#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/snapshot_index.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace telluride {

/// Records of the indexer's owner missing before one of its deltas (see above).
struct chain_break {
  shard_identity shard;
  std::uint64_t first_missing = 0;  ///< the first sequence missing
  std::uint64_t delta = 0;          ///< the delta that follows the missing records
};

class snapshot_indexer {
public:
  /// Offers entries for the snapshots `owner` wrote.
  explicit snapshot_indexer(std::string owner);

  /// The stream's next record, delivered at `offset`: the entry to write when it is a snapshot
  /// of this owner that holds its shard's fence. Bytes that do not decode are skipped.
  std::optional<snapshot_index_entry> read(std::int64_t offset, std::string_view bytes);

  /// Set when the record `read` last read is a delta of this owner that follows missing
  /// records of its shard; else empty.
  const std::optional<chain_break>& last_break() const noexcept { return last_break_; }
  /// Whether the record `read` last read decoded and was written by this owner (whose writer
  /// counts its own records: stream_meter.hpp).
  bool last_was_own() const noexcept { return last_was_own_; }

  /// The fence of a shard as read so far (none: no record of it read).
  std::optional<owner_fence> fence(shard_identity shard) const;
  std::uint64_t records_read() const noexcept { return records_read_; }

private:
  std::string owner_;
  struct shard_view {
    owner_fence fence;
    std::uint64_t last_sequence = 0;  // of the records the fence admitted
  };
  std::map<std::pair<std::uint32_t, std::uint32_t>, shard_view> shards_;  // (layout, shard)
  std::uint64_t records_read_ = 0;
  std::optional<chain_break> last_break_;
  bool last_was_own_ = false;
};

} // namespace telluride
