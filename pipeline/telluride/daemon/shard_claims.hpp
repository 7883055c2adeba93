// shard_claims.hpp — who holds each shard, as the state stream says, read in stream order by a
// daemon's tail of the stream (docs/sharding.md, Claims and fences).
//
//   - a `takeover` whose epoch is above every epoch before it (of its shard) is a claim: its
//     node holds the shard from there on; one whose epoch is not above lost and is ignored;
//   - a `release` by the holder under the holder's epoch frees the shard;
//   - checkpoints (snapshot, delta) change no holder, and records of another layout than
//     this deployment's K (an earlier run with another `shards`) are ignored;
//   - a `layout` record of K (the number of shards changed to K) frees every shard: claims
//     made before it belong to an earlier life of the layout.
// Pure: headers in, holders out.
#pragma once

#include "telluride/state/checkpoint_record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace telluride {

struct shard_holder_view {
  std::uint64_t epoch = 0;  ///< of the winning claim (0: never claimed)
  std::string node;         ///< its node (empty: never claimed)
  bool is_released = false;
  friend bool operator==(const shard_holder_view&, const shard_holder_view&) = default;
};

/// What a record did to its shard's holder.
enum class claim_news : std::uint8_t { none, claimed, lost_claim, released };

class shard_claims {
public:
  explicit shard_claims(std::uint32_t layout) : layout_(layout), holders_(layout) {}

  /// The next record's header, in stream order.
  claim_news read(const record_header& h);

  /// Shard `shard`'s holder (shard < layout).
  const shard_holder_view& of(std::uint32_t shard) const { return holders_.at(shard); }
  std::uint32_t layout() const noexcept { return layout_; }

private:
  std::uint32_t layout_;
  std::vector<shard_holder_view> holders_;
};

} // namespace telluride
