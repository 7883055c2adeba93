// state_restore.hpp — a shard restored from the state stream at start, before any of its
// readings is applied (docs/checkpoints.md, Restoring at start):
//
//   1. read the stream from its first record (or from the shard's indexed snapshot:
//      indexed_restore.hpp) until nothing more comes for `settle`, or until a record written
//      after the reading began (others checkpoint all the time: the stream is then never
//      quiet), so the claim's epoch is above every epoch written so far;
//   2. write the claim (a takeover: the highest epoch read + 1) and wait for its confirm;
//   3. read on until the claim comes back: every record written before it is then read;
//   4. the claim won: the shard is restored (its latest snapshot and the deltas after it).
//      It lost (another owner's claim came first, which step 1 missed): claim again, at most
//      `attempts` times.
// A record that does not fold (a gap, a delta on a missing snapshot, bytes that do not
// decode), a claim that is not confirmed or not read back in time: one line naming the shard
// (and the sequence), and no state.
#pragma once

#include "telluride/daemon/checkpoint_round.hpp"
#include "telluride/daemon/state_stream.hpp"
#include "telluride/state/shard_claim.hpp"

#include <chrono>
#include <cstdint>

namespace telluride {

struct restore_settings {
  std::chrono::milliseconds settle{200};            ///< step 1: quiet this long = read to the end
  /// From an indexed snapshot: the first record (a large snapshot) may take this long.
  std::chrono::milliseconds first_record_timeout{3'000};
  std::chrono::milliseconds confirm_timeout{10'000};
  std::chrono::milliseconds read_back_timeout{30'000};  ///< step 3: no record for this long
  int attempts = 5;
};

/// A restored shard, and where its owner's winning claim is in the stream.
struct stream_restored : restored_shard {
  std::int64_t claim_offset = -1;  ///< the offset the claim was read back at (-1: unknown)
};

/// Restores the shard of `claim` from `source` (the stream read from its start, or from the
/// shard's indexed snapshot), writing its claims to `sink`.
expected<stream_restored> restore_from_stream(record_source& source, record_sink& sink, shard_claim& claim,
                                              const restore_settings& settings);

} // namespace telluride
