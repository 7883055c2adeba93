#include "telluride/daemon/shard_claims.hpp"

namespace telluride {

claim_news shard_claims::read(const record_header& h) {
  if (h.layout != layout_ || h.shard >= layout_)
    return claim_news::none;
  if (h.kind == record_kind::layout) {
    // The layout starts afresh (a change of the number of shards): no claim of before holds.
    for (auto& earlier : holders_)
      earlier.is_released = true;
    return claim_news::released;
  }
  auto& holder = holders_[h.shard];
  switch (h.kind) {
    case record_kind::takeover:
      if (h.epoch <= holder.epoch)
        return claim_news::lost_claim;
      holder = shard_holder_view{h.epoch, h.owner, false};
      return claim_news::claimed;
    case record_kind::release:
      if (h.epoch != holder.epoch || h.owner != holder.node || holder.is_released)
        return claim_news::none;
      holder.is_released = true;
      return claim_news::released;
    case record_kind::snapshot:
    case record_kind::delta:
    case record_kind::layout:
      return claim_news::none;
  }
  return claim_news::none;
}

} // namespace telluride
