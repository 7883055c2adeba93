// restore_start.hpp — where a shard's restore starts reading the state stream: at the snapshot
// its index names, or, when there is no usable entry, at the first record (docs/checkpoints.md,
// Finding the latest snapshot).
//
// The decisions, in order:
//  1. plan: no entry (none written yet, the index cannot be read) or one that does not decode
//     or names another shard: read from the first record, for the reason given;
//  2. check: the first record read from the entry's offset must be delivered at that offset
//     (an earlier one cannot be; a later one means retention removed the snapshot) and be the
//     indexed snapshot, byte for byte (its hash: a stream deleted and declared again numbers
//     its offsets from 0 again). Nothing at all at the offset (the stream ends before it) is
//     the same: read from the first record;
//  3. a restore from the entry that does not fold (checkpoint_fold's problems) is done again
//     from the first record, which either folds or reports the problem.
// Each fall-back is one log line naming the reason; the result is the same as reading from
// the first record, only slower. Pure: no broker.
#pragma once

#include "telluride/domain/expected.hpp"
#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/snapshot_index.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telluride {

/// Where to start: `entry` (its offset), or the first record for `why_first`.
struct restore_start {
  std::optional<snapshot_index_entry> entry;
  std::string why_first;  ///< when !entry: one line
};

/// Step 1. `stored` is what the index holds for `shard`: the entry's bytes, nothing (no entry
/// written), or the error met reading it.
restore_start plan_restore_start(shard_identity shard, const expected<std::optional<std::string>>& stored);

/// Step 2: why the record delivered first from `entry`'s offset (at `offset`, `bytes`) is not
/// the indexed snapshot; nothing when it is.
std::optional<std::string> check_indexed_start(const snapshot_index_entry& entry, std::int64_t offset,
                                               std::string_view bytes);

} // namespace telluride
