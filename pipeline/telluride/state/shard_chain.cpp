#include "telluride/state/shard_chain.hpp"

#include <algorithm>
#include <utility>

namespace telluride {

shard_chain::shard_chain(shard_identity shard, std::string owner, std::uint64_t epoch, std::uint64_t last_read,
                         snapshot_policy policy)
  : shard_(shard), owner_(std::move(owner)), epoch_(epoch), policy_(policy), next_(last_read + 1) {}

void shard_chain::measure_stream_with(std::shared_ptr<const stream_meter> meter) {
  meter_ = std::move(meter);
  meter_at_snapshot_ = meter_ ? meter_->bytes() : 0;
}

std::uint64_t shard_chain::stream_bytes_since_snapshot() const noexcept {
  const std::uint64_t others = meter_ ? meter_->bytes() - meter_at_snapshot_ : 0;
  return stream_bytes_since_snapshot_ + others;
}

bool shard_chain::is_due() const noexcept {
  return must_snapshot_ || !snapshot_ || stream_bytes_since_snapshot() >= policy_.max_stream_bytes;
}

bool shard_chain::wants_snapshot() const noexcept {
  if (is_due())
    return true;
  const bool outweigh = delta_bytes_since_snapshot_ >= snapshot_bytes_ * policy_.delta_bytes_per_snapshot_byte &&
                        stream_bytes_since_snapshot() >= policy_.min_stream_bytes;
  return deltas_since_snapshot_ >= policy_.max_deltas || outweigh;
}

record_header shard_chain::next(record_kind kind, std::int64_t now_ms) {
  record_header h;
  h.kind = kind;
  h.layout = shard_.layout;
  h.shard = shard_.shard;
  h.epoch = epoch_;
  h.sequence = next_++;
  h.base = kind == record_kind::snapshot ? h.sequence : snapshot_.value_or(0);
  h.written_at_ms = now_ms;
  h.owner = owner_;
  return h;
}

void shard_chain::confirmed(const record_header& header, std::size_t bytes) {
  if (header.kind == record_kind::snapshot) {
    snapshot_ = header.sequence;
    must_snapshot_ = false;
    snapshot_bytes_ = bytes;
    deltas_since_snapshot_ = 0;
    delta_bytes_since_snapshot_ = 0;
    stream_bytes_since_snapshot_ = 0;
    meter_at_snapshot_ = meter_ ? meter_->bytes() : 0;
  } else if (header.kind == record_kind::delta) {
    ++deltas_since_snapshot_;
    delta_bytes_since_snapshot_ += bytes;
  }
}

void shard_chain::failed() noexcept {
  must_snapshot_ = true;
}

checkpoint_record takeover_record(shard_identity shard, const std::string& owner, std::uint64_t epoch,
                                  std::uint64_t last_read, std::optional<std::uint64_t> snapshot,
                                  std::int64_t now_ms) {
  checkpoint_record record;
  record.header = record_header{record_kind::takeover, shard.layout, shard.shard, epoch, last_read,
                                std::min(snapshot.value_or(0), last_read), now_ms, owner};
  return record;
}

} // namespace telluride
