// indexed_restore.hpp — a shard restored from its indexed snapshot, or from the state stream's
// first record when the index cannot be used (docs/checkpoints.md, Finding the latest
// snapshot; restore_start.hpp has the decisions, state_restore.hpp the claim).
//
//   1. the plan: the index's entry for the shard, or the first record (one log line why);
//   2. from the entry: a reader at its offset; the first record it delivers must be the indexed
//      snapshot. Then the restore of state_restore.hpp goes on from there: the snapshot, the
//      records after it, the claim;
//   3. a start that is not the snapshot, or a restore from it that does not fold: one log line,
//      and the restore runs again from the first record. Errors that are not the records'
//      (a claim refused or not read back, a lost connection) are returned as they are.
#pragma once

#include "telluride/daemon/state_restore.hpp"
#include "telluride/state/restore_start.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace telluride {

/// Whose shard is restored, and how its state is kept.
struct shard_restore_request {
  shard_identity shard;
  std::string owner;
  alert_rules rules;
  std::size_t id_capacity = 0;
};

struct indexed_restore_result {
  stream_restored restored;
  std::uint64_t epoch = 0;         ///< the winning claim's
  std::uint64_t records_read = 0;  ///< by every attempt, of every shard
  /// The offset of the indexed snapshot the restore read from; none: from the first record.
  std::optional<std::int64_t> started_at;
  std::string fell_back;  ///< why the index was not used, if it was not
};

/// Restores `request.shard` as planned by `start`, reading through `open`, claiming on `sink`.
expected<indexed_restore_result> restore_indexed(const restore_start& start, const record_source_opener& open,
                                                 record_sink& sink, const shard_restore_request& request,
                                                 const restore_settings& settings);

} // namespace telluride
