#include "telluride/state/checkpoint_fold.hpp"

#include "telluride/domain/hash.hpp"

#include <utility>

namespace telluride {

namespace {

std::string missing(std::uint64_t first, std::uint64_t last) {
  if (first == last)
    return std::to_string(first) + " is missing";
  return std::to_string(first) + ".." + std::to_string(last) + " are missing";
}

} // namespace

checkpoint_fold::checkpoint_fold(shard_identity shard, alert_rules rules, std::size_t id_capacity)
  : shard_(shard), state_(std::move(rules), id_capacity) {}

std::string checkpoint_fold::describe(const record_header& h) const {
  return std::string(to_string(h.kind)) + " " + std::to_string(h.sequence);
}

void checkpoint_fold::fail(std::string text) {
  if (!problem_)
    problem_ = error{"shard " + std::to_string(shard_.shard) + ": " + text};
}

void checkpoint_fold::advance(std::uint64_t sequence, std::uint64_t hash) {
  if (hashes_.empty() || sequence != hashes_from_ + hashes_.size()) {
    hashes_.clear();
    hashes_from_ = sequence;
  }
  hashes_.push_back(hash);
  last_ = sequence;
}

bool checkpoint_fold::is_copy(const record_header& h, std::uint64_t hash) const {
  return h.sequence >= hashes_from_ && h.sequence - hashes_from_ < hashes_.size() &&
         hashes_[h.sequence - hashes_from_] == hash;
}

void checkpoint_fold::read(std::string_view bytes) {
  auto header = decode_checkpoint_header(bytes);
  if (!header) {
    fail("the record after " + (last_ ? "sequence " + std::to_string(*last_) : std::string("the start")) +
         " does not decode: " + header.err().message);
    return;
  }
  const record_header& h = *header;
  if (h.kind == record_kind::layout && h.layout == shard_.layout) {
    start_layout();
    return;
  }
  if (h.layout != shard_.layout || h.shard != shard_.shard) {
    ++counts_.other_shards;
    return;
  }
  if (fence_ && (h.epoch < fence_->epoch || (h.epoch == fence_->epoch && h.owner != fence_->owner))) {
    ++counts_.fenced;
    return;
  }
  const std::uint64_t hash = hash_bytes(bytes);
  if (h.kind == record_kind::takeover) {
    read_takeover(h, hash);
    return;
  }
  if (!fence_ || h.epoch > fence_->epoch)
    fence_ = owner_fence{h.epoch, h.owner};  // its owner's takeover came before where we began
  if (last_ && h.sequence <= *last_) {
    if (is_copy(h, hash))
      ++counts_.duplicates;
    else
      fail(describe(h) + " repeats a sequence already read (the last is " + std::to_string(*last_) +
           ") with other contents");
    return;
  }
  if (h.kind == record_kind::snapshot)
    read_snapshot(h, bytes, hash);
  else
    read_in_sequence(h, bytes, hash);
}

void checkpoint_fold::read_takeover(const record_header& h, std::uint64_t hash) {
  if (fence_ && h.epoch == fence_->epoch) {
    ++counts_.duplicates;  // the fence's own owner (others are fenced): its takeover again
    return;
  }
  fence_ = owner_fence{h.epoch, h.owner};
  is_released_ = false;
  ++counts_.applied;
  // Its owner wrote it after the last record it had read; records it had not read yet may
  // have taken that sequence since, so it may repeat the last one, never skip one.
  if (last_ && h.sequence > *last_ + 1) {
    fail(describe(h) + " follows " + std::to_string(*last_) + ": " + missing(*last_ + 1, h.sequence - 1));
    advance(h.sequence, hash);
    return;
  }
  if (!last_ || h.sequence > *last_)
    advance(h.sequence, hash);
}

void checkpoint_fold::start_layout() {
  state_ = shard_state{state_.alerts().rules(), state_.message_ids().capacity()};
  snapshot_.reset();
  problem_.reset();
  is_released_ = false;
  starts_layout_ = true;
  ++counts_.applied;
}

void checkpoint_fold::read_snapshot(const record_header& h, std::string_view bytes, std::uint64_t hash) {
  snapshot_ = h.sequence;
  starts_layout_ = false;
  advance(h.sequence, hash);
  is_released_ = false;
  auto record = decode_checkpoint(bytes);
  if (!record) {
    // A new chain starts here, and it is broken from the start.
    if (problem_)
      ++counts_.superseded;
    problem_.reset();
    fail(describe(h) + " does not decode: " + record.err().message);
    return;
  }
  if (problem_) {
    ++counts_.superseded;
    problem_.reset();
  }
  state_.restore(record->image);
  ++counts_.applied;
}

void checkpoint_fold::read_in_sequence(const record_header& h, std::string_view bytes, std::uint64_t hash) {
  // Rule 6 (checkpoint_fold.hpp): a release, and nothing else, may follow a gap.
  const bool is_gap_before_release = h.kind == record_kind::release && last_ && h.sequence > *last_ + 1;
  if (last_ && h.sequence != *last_ + 1 && !is_gap_before_release) {
    fail(describe(h) + " follows " + std::to_string(*last_) + ": " + missing(*last_ + 1, h.sequence - 1));
    advance(h.sequence, hash);
    return;
  }
  advance(h.sequence, hash);
  if (h.kind == record_kind::release) {
    is_released_ = true;
    ++counts_.applied;
    return;
  }
  is_released_ = false;
  if (!snapshot_) {
    fail(describe(h) + " builds on snapshot " + std::to_string(h.base) + ", which was not read");
    return;
  }
  if (h.base != *snapshot_) {
    fail(describe(h) + " builds on snapshot " + std::to_string(h.base) + ", but the snapshot in use is " +
         std::to_string(*snapshot_));
    return;
  }
  if (problem_)
    return;  // the chain is broken: nothing more is applied until a snapshot
  auto record = decode_checkpoint(bytes, &state_.table());  // its kept fields are the state's
  if (!record) {
    fail(describe(h) + " does not decode: " + record.err().message);
    return;
  }
  state_.apply(record->image);
  ++counts_.applied;
}

expected<restored_shard> checkpoint_fold::finish() && {
  if (problem_)
    return *problem_;
  return restored_shard{std::move(state_), std::move(fence_), last_.value_or(0), snapshot_, is_released_, counts_,
                        starts_layout_};
}

expected<restored_shard> restore_shard(shard_identity shard, std::span<const std::string> records,
                                       const alert_rules& rules, std::size_t id_capacity) {
  checkpoint_fold fold{shard, rules, id_capacity};
  for (const std::string& record : records)
    fold.read(record);
  return std::move(fold).finish();
}

} // namespace telluride
