// record_writer.hpp — one shard's checkpoint records written as an owner writes them, for the
// codec and fold tests.
#pragma once

#include "state_builders.hpp"

#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/shard_state.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>

namespace state_test {

/// Writes one shard's records as an owner does: sequences +1 per record, deltas on the last
/// snapshot written.
class record_writer {
public:
  record_writer(std::uint32_t layout, std::uint32_t shard, std::string owner, std::uint64_t epoch)
    : layout_(layout), shard_(shard), owner_(std::move(owner)), epoch_(epoch) {}

  std::string snapshot(shard_image image) {
    base_ = next_;
    return write(record_kind::snapshot, std::move(image));
  }
  std::string delta(shard_image image) { return write(record_kind::delta, std::move(image)); }
  /// The same records encoded straight from `state` (shard_state::encode_image, as the daemon
  /// writes them: a delta's sensors keep the fields that did not move).
  std::string snapshot_of(shard_state& state) {
    base_ = next_;
    return encode(state, record_kind::snapshot);
  }
  std::string delta_of(shard_state& state) { return encode(state, record_kind::delta); }
  std::string release() { return write(record_kind::release, {}); }
  /// A takeover: the next epoch, written after the records up to `last_read`.
  std::string takeover(std::uint64_t last_read) {
    next_ = last_read + 1;
    ++epoch_;
    return write(record_kind::takeover, {});
  }
  /// Carries on after the records up to `last_read` (what a new owner read), on `base`.
  void continue_after(std::uint64_t last_read, std::uint64_t base) {
    next_ = last_read + 1;
    base_ = base;
  }

private:
  record_header next_header(record_kind kind) {
    record_header header{kind, layout_, shard_, epoch_, next_, kind == record_kind::snapshot ? next_ : base_,
                         1764600000000, owner_};
    ++next_;
    return header;
  }

  std::string write(record_kind kind, shard_image image) {
    checkpoint_record record;
    record.header = next_header(kind);
    record.image = std::move(image);
    auto bytes = encode_checkpoint(record);
    REQUIRE_MESSAGE(bytes.has_value(), (bytes ? std::string() : bytes.err().message));
    return std::move(*bytes);
  }

  std::string encode(shard_state& state, record_kind kind) {
    auto bytes = state.encode_image(next_header(kind));
    REQUIRE_MESSAGE(bytes.has_value(), (bytes ? std::string() : bytes.err().message));
    return std::move(*bytes);
  }

  std::uint32_t layout_;
  std::uint32_t shard_;
  std::string owner_;
  std::uint64_t epoch_;
  std::uint64_t next_ = 1;
  std::uint64_t base_ = 0;
};

} // namespace state_test
