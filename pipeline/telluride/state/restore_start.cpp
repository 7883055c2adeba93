#include "telluride/state/restore_start.hpp"

#include "telluride/domain/hash.hpp"

#include <utility>

namespace telluride {

restore_start plan_restore_start(shard_identity shard, const expected<std::optional<std::string>>& stored) {
  if (!stored)
    return {std::nullopt, "the snapshot index cannot be read: " + stored.err().message};
  if (!stored->has_value())
    return {std::nullopt, "no snapshot is indexed yet"};
  auto entry = decode_index_entry(**stored);
  if (!entry)
    return {std::nullopt, entry.err().message};
  if (entry->layout != shard.layout || entry->shard != shard.shard)
    return {std::nullopt, "the snapshot index names shard " + std::to_string(entry->shard) + " of " +
                            std::to_string(entry->layout) + ", not shard " + std::to_string(shard.shard) + " of " +
                            std::to_string(shard.layout)};
  return {std::move(*entry), {}};
}

std::optional<std::string> check_indexed_start(const snapshot_index_entry& entry, std::int64_t offset,
                                               std::string_view bytes) {
  const std::string at = "offset " + std::to_string(entry.offset);
  if (offset > entry.offset)
    return "the stream now starts at offset " + std::to_string(offset) + ", after the indexed snapshot at " + at +
           " (retention removed it)";
  if (offset < entry.offset)
    return "the stream delivered offset " + std::to_string(offset) + " when asked for " + at;
  if (hash_bytes(bytes) != entry.record_hash)
    return "the record at " + at + " is not the indexed snapshot " + std::to_string(entry.sequence) +
           " (the stream was declared again?)";
  return std::nullopt;
}

} // namespace telluride
