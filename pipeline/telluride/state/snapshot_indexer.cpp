#include "telluride/state/snapshot_indexer.hpp"

#include "telluride/domain/hash.hpp"
#include "telluride/state/checkpoint_record.hpp"

#include <utility>

namespace telluride {

snapshot_indexer::snapshot_indexer(std::string owner) : owner_(std::move(owner)) {}

std::optional<snapshot_index_entry> snapshot_indexer::read(std::int64_t offset, std::string_view bytes) {
  ++records_read_;
  last_break_.reset();
  auto header = decode_checkpoint_header(bytes);
  last_was_own_ = header && header->owner == owner_;
  if (!header)
    return std::nullopt;
  const record_header& h = *header;
  auto [at, is_new] = shards_.try_emplace({h.layout, h.shard}, shard_view{owner_fence{h.epoch, h.owner}, 0});
  owner_fence& fence = at->second.fence;
  // The fold's rule 3: a lower epoch, or the same epoch from another owner, is fenced; a
  // higher epoch (a takeover or any record) moves the fence.
  if (!is_new) {
    if (h.epoch < fence.epoch || (h.epoch == fence.epoch && h.owner != fence.owner))
      return std::nullopt;
    if (h.epoch > fence.epoch)
      fence = owner_fence{h.epoch, h.owner};
  }
  const std::uint64_t last = at->second.last_sequence;
  const bool is_next = h.sequence > last;
  if (is_next)
    at->second.last_sequence = h.sequence;
  if (!is_new && h.kind == record_kind::delta && h.owner == owner_ && h.sequence > last + 1)
    last_break_ = chain_break{{h.layout, h.shard}, last + 1, h.sequence};
  if (h.kind != record_kind::snapshot || h.owner != owner_ || !is_next)
    return std::nullopt;
  return snapshot_index_entry{h.layout, h.shard, offset, h.sequence, h.epoch, hash_bytes(bytes), h.owner};
}

std::optional<owner_fence> snapshot_indexer::fence(shard_identity shard) const {
  auto at = shards_.find({shard.layout, shard.shard});
  if (at == shards_.end())
    return std::nullopt;
  return at->second.fence;
}

} // namespace telluride
