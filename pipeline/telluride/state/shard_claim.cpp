#include "telluride/state/shard_claim.hpp"

#include "telluride/state/shard_chain.hpp"

#include <utility>

namespace telluride {

shard_claim::shard_claim(shard_identity shard, std::string owner, alert_rules rules, std::size_t id_capacity)
  : shard_(shard), owner_(std::move(owner)), fold_(shard, std::move(rules), id_capacity) {}

void shard_claim::read(std::string_view bytes) {
  ++records_read_;
  fold_.read(bytes);
  if (state_ != outcome::waiting)
    return;
  auto header = decode_checkpoint_header(bytes);
  const record_header& c = claimed_;
  if (!header || header->kind != record_kind::takeover || header->layout != c.layout || header->shard != c.shard ||
      header->owner != c.owner || header->epoch != c.epoch || header->sequence != c.sequence ||
      header->base != c.base || header->written_at_ms != c.written_at_ms)
    return;
  // Its own takeover, read back: the fold admitted it as the fence, or ignored it because a
  // claim of the same or a higher epoch came first.
  const auto& fence = fold_.fence();
  state_ = fence && fence->epoch == epoch_ && fence->owner == owner_ ? outcome::won : outcome::lost;
}

checkpoint_record shard_claim::claim(std::int64_t now_ms) {
  const auto& fence = fold_.fence();
  epoch_ = (fence ? fence->epoch : 0) + 1;
  state_ = outcome::waiting;
  auto record = takeover_record(shard_, owner_, epoch_, fold_.last_sequence(), fold_.snapshot(), now_ms);
  claimed_ = record.header;
  return record;
}

expected<restored_shard> shard_claim::finish() && {
  if (fold_.problem())
    return *fold_.problem();
  if (state_ != outcome::won) {
    const auto& fence = fold_.fence();
    return error{"shard " + std::to_string(shard_.shard) + ": the claim with epoch " + std::to_string(epoch_) +
                 " did not win" + (fence ? " (the shard is held by " + fence->owner + ", epoch " +
                                             std::to_string(fence->epoch) + ")"
                                         : std::string{})};
  }
  return std::move(fold_).finish();
}

} // namespace telluride
