// checkpoint_fold.hpp — one shard's state restored from its checkpoint records, read in
// stream order (docs/checkpoints.md, Restore).
//
// The fold takes the shard's latest snapshot and applies every delta after it, in sequence.
// The rules, in the order they are checked for each record:
//  1. Bytes that do not decode are a problem (below).
//  2. A layout record of the shard's layout (the number of shards changed to it) starts the
//     shard afresh: no state, no snapshot in use, no problem; the fence and the sequences go
//     on. Any other record of another layout or shard is ignored (counted in other_shards).
//  3. Fence: a record whose epoch is below the fence's, or equal to it from another owner, is
//     ignored (fenced): a zombie owner's late write, or the loser of two takeovers of one
//     epoch (the first in the stream wins). A takeover with a higher epoch moves the fence to
//     (its epoch, its owner), and so does any record from a higher epoch (its takeover may lie
//     before where reading began). A takeover's sequence may repeat the last one (records its
//     owner had not read when it wrote it); a copy of the fence's own takeover is a duplicate.
//  4. A record whose sequence is not above the last one read is a duplicate when its bytes are
//     those of the record already read with that sequence (a publisher's retry) and is ignored;
//     otherwise it is a problem.
//  5. A snapshot replaces the whole state and starts a new chain: whatever came before it,
//     problems included, no longer matters (counted in superseded).
//  6. Any other record must follow the last one: sequence = last + 1 (else a gap: a problem).
//     A delta must build on the snapshot in use (its base); its sensors replace theirs (the
//     fields they keep are the state's: checkpoint_record.hpp), its ids are remembered,
//     alerts_raised is its. A release marks the shard released until the next record; it
//     alone may follow a gap: the missing records are writes that failed, whose
//     rounds released no acknowledgement (a later round that succeeds writes a snapshot), so
//     the state before them is the one the acknowledged readings match, and a release holds no
//     state that could need them.
// A problem (undecodable bytes, a gap, a delta on another base or with no snapshot read, a
// repeated sequence with other bytes) names the shard and the sequence; it stops deltas from
// being applied and stays until a later snapshot supersedes it: a restore never silently
// skips a record its state depends on. Pure: no broker, no clock.
#pragma once

#include "telluride/domain/alert_tracker.hpp"
#include "telluride/domain/expected.hpp"
#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/shard_state.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

/// Which shard of which layout: records of other layouts name other shards.
struct shard_identity {
  std::uint32_t layout = 1;  ///< K
  std::uint32_t shard = 0;   ///< 0..K-1
  bool operator==(const shard_identity&) const = default;
};

/// The highest epoch read for a shard, and the owner whose records it admits.
struct owner_fence {
  std::uint64_t epoch = 0;
  std::string owner;
  bool operator==(const owner_fence&) const = default;
};

/// Records read, by what became of them.
struct fold_counts {
  std::uint64_t applied = 0;       ///< moved the state, the fence or the sequence
  std::uint64_t fenced = 0;        ///< ignored: written behind the fence
  std::uint64_t duplicates = 0;    ///< ignored: a copy of a record already read
  std::uint64_t other_shards = 0;  ///< ignored: another layout's or shard's
  std::uint64_t superseded = 0;    ///< chains broken by a problem, then replaced by a snapshot
};

/// What a restore gives the shard's next owner.
struct restored_shard {
  shard_state state;
  std::optional<owner_fence> fence;       ///< none: no record read
  std::uint64_t sequence = 0;             ///< the last record's; the next record is sequence + 1
  std::optional<std::uint64_t> snapshot;  ///< the snapshot in use: the base of the next delta
  bool is_released = false;               ///< the last record read (not ignored) is a release
  fold_counts counts;
  /// A layout record started the shard afresh and no snapshot followed: the shard starts its
  /// layout now (shard_state::start_layout).
  bool starts_layout = false;
};

class checkpoint_fold {
public:
  /// Restores shard `shard`; the state follows `rules` and remembers `id_capacity` ids.
  checkpoint_fold(shard_identity shard, alert_rules rules, std::size_t id_capacity);

  /// Reads the shard's next record, in stream order.
  void read(std::string_view bytes);

  /// The first problem no later snapshot superseded, if any.
  const std::optional<error>& problem() const noexcept { return problem_; }
  const std::optional<owner_fence>& fence() const noexcept { return fence_; }
  bool is_released() const noexcept { return is_released_; }
  /// A layout record started the shard afresh, and no snapshot came since.
  bool starts_layout() const noexcept { return starts_layout_; }
  /// The last sequence read (0: none): a takeover written now names it.
  std::uint64_t last_sequence() const noexcept { return last_.value_or(0); }
  /// The snapshot in use, if any.
  const std::optional<std::uint64_t>& snapshot() const noexcept { return snapshot_; }
  const fold_counts& counts() const noexcept { return counts_; }
  /// The state so far (meaningful when there is no problem).
  const shard_state& state() const noexcept { return state_; }

  /// The restored shard, or the problem.
  expected<restored_shard> finish() &&;

private:
  void read_takeover(const record_header& h, std::uint64_t hash);
  /// A layout record of this shard's layout: the shard starts afresh.
  void start_layout();
  void read_snapshot(const record_header& h, std::string_view bytes, std::uint64_t hash);
  void read_in_sequence(const record_header& h, std::string_view bytes, std::uint64_t hash);
  /// Whether the record at an already-read sequence is a copy (true) or a problem (false).
  bool is_copy(const record_header& h, std::uint64_t hash) const;
  /// Records the first problem; the chain in use is broken until the next snapshot.
  void fail(std::string text);
  /// The sequence now read up to: `sequence`, whose bytes hash to `hash`.
  void advance(std::uint64_t sequence, std::uint64_t hash);
  std::string describe(const record_header& h) const;

  shard_identity shard_;
  shard_state state_;
  std::optional<owner_fence> fence_;
  std::optional<std::uint64_t> last_;      // the last sequence read
  std::optional<std::uint64_t> snapshot_;  // the snapshot in use
  std::vector<std::uint64_t> hashes_;      // of the records with sequences hashes_from_..last_
  std::uint64_t hashes_from_ = 0;
  bool is_released_ = false;
  bool starts_layout_ = false;
  std::optional<error> problem_;
  fold_counts counts_;
};

/// Restores one shard from its records in stream order: a checkpoint_fold over `records`.
expected<restored_shard> restore_shard(shard_identity shard, std::span<const std::string> records,
                                       const alert_rules& rules, std::size_t id_capacity);

} // namespace telluride
