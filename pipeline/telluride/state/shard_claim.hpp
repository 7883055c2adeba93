// shard_claim.hpp — a new owner's restore of one shard: it reads the state stream in order
// (a checkpoint_fold), claims the shard with a takeover one epoch above every epoch it read, and
// learns whether the claim won when it reads that takeover back (docs/checkpoints.md, Restoring
// at start; docs/sharding.md, steps 7 and 8).
//
// The owner reads from the start of the stream, writes its claim (claim()), and reads on until
// its own takeover comes back: everything written before the claim is then read. Its own
// takeover is the record with exactly its header (epoch, sequence, time and owner): an earlier
// claim of the same owner name with the same epoch (a previous process of that node, whose
// claim lies after where this one stopped reading before claiming) is not mistaken for it. The claim won
// when the fence is still its own after its takeover; it lost when another owner's claim of
// the same or a higher epoch came first (the fold ignored ours): the owner may claim again with
// a higher epoch and read on. Pure: no broker, no clock.
#pragma once

#include "telluride/domain/alert_tracker.hpp"
#include "telluride/domain/expected.hpp"
#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/checkpoint_record.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telluride {

class shard_claim {
public:
  /// `owner` restores `shard`; the state follows `rules` and remembers `id_capacity` ids.
  shard_claim(shard_identity shard, std::string owner, alert_rules rules, std::size_t id_capacity);

  enum class outcome : std::uint8_t {
    unclaimed,  ///< no claim written yet
    waiting,    ///< the claim is written, not read back yet
    won,        ///< the claim was read back and holds the fence: the restore is complete
    lost,       ///< another owner's claim came first: claim again, or give up
  };

  /// The stream's next record, in order (records of other shards are counted and skipped).
  void read(std::string_view bytes);

  /// The takeover to write now: one epoch above the highest read, after the last sequence
  /// read. From now on state() is `waiting` until it is read back.
  checkpoint_record claim(std::int64_t now_ms);

  outcome state() const noexcept { return state_; }
  /// The epoch of the latest claim (0: none).
  std::uint64_t epoch() const noexcept { return epoch_; }
  const shard_identity& shard() const noexcept { return shard_; }
  /// Records read (of every shard).
  std::uint64_t records_read() const noexcept { return records_read_; }
  const checkpoint_fold& fold() const noexcept { return fold_; }

  /// The restored shard once the claim won; else an error naming the shard: the fold's problem
  /// (`shard 0: delta 14 follows 12: 13 is missing`), or that the claim did not win.
  expected<restored_shard> finish() &&;

private:
  shard_identity shard_;
  std::string owner_;
  checkpoint_fold fold_;
  std::uint64_t epoch_ = 0;
  record_header claimed_;  // the latest claim's header: its own takeover, when read back
  std::uint64_t records_read_ = 0;
  outcome state_ = outcome::unclaimed;
};

} // namespace telluride
