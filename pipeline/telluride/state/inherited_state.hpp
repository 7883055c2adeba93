// inherited_state.hpp — the state a layout inherits when the number of shards changes
// (docs/checkpoints.md, Changing the number of shards).
//
// Which new shard a sensor's readings go to is the broker's consistent hash to decide, so the
// old shards' final states cannot be split up front. Instead every new shard gets the whole of
// them, read-only, and takes a sensor's record from it the first time it meets the sensor: from
// then on the sensor is that shard's own, in its checkpoints. Each sensor is taken by exactly
// the one shard its readings are routed to, so nothing is counted twice; a sensor whose readings
// never come again stays here, and goes on to the next change (next_inheritance). Immutable
// once built: shared by every shard without a lock.
#pragma once

#include "telluride/domain/sensor_key.hpp"
#include "telluride/state/shard_image.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>

namespace telluride {

class inherited_state {
public:
  /// `image`: every sensor of the old layout (each once), the message ids its shards remembered
  /// last, and the alerts they raised in all.
  explicit inherited_state(shard_image image);

  /// The sensor's record as the old layout left it, or null.
  const sensor_record* find(const sensor_key& key) const;
  const shard_image& image() const noexcept { return image_; }
  std::size_t sensors() const noexcept { return image_.sensors.size(); }

private:
  shard_image image_;
  std::unordered_map<sensor_key, std::uint32_t, sensor_key_hash> positions_;
};

/// What the next layout inherits from a layout whose shards ended with `finals` (each shard's
/// whole state) and which had inherited `before` (none: the first layout): every sensor of the
/// finals, and each sensor of `before` that no final holds (never met since); the finals'
/// message ids, shard after shard, at most `max_ids` (the latest of each shard kept first);
/// their alerts raised in all.
shard_image next_inheritance(const inherited_state* before, std::span<const shard_image> finals,
                             std::size_t max_ids);

} // namespace telluride
