#include "telluride/state/inherited_state.hpp"

#include <algorithm>
#include <unordered_set>

namespace telluride {

inherited_state::inherited_state(shard_image image) : image_(std::move(image)) {
  positions_.reserve(image_.sensors.size());
  for (std::uint32_t i = 0; i < image_.sensors.size(); ++i)
    positions_.emplace(image_.sensors[i].aggregate.key.key(), i);
}

const sensor_record* inherited_state::find(const sensor_key& key) const {
  const auto found = positions_.find(key);
  return found == positions_.end() ? nullptr : &image_.sensors[found->second];
}

shard_image next_inheritance(const inherited_state* before, std::span<const shard_image> finals,
                             std::size_t max_ids) {
  shard_image next;
  std::unordered_set<sensor_key, sensor_key_hash> held;
  for (const shard_image& final_state : finals) {
    next.alerts_raised += final_state.alerts_raised;
    for (const sensor_record& record : final_state.sensors)
      if (held.insert(record.aggregate.key.key()).second)
        next.sensors.push_back(record);
  }
  if (before != nullptr)
    for (const sensor_record& record : before->image().sensors)
      if (!held.contains(record.aggregate.key.key()))
        next.sensors.push_back(record);
  // Each shard's latest ids are the ones a reading routed twice around the change can repeat:
  // an equal share of each shard's newest, oldest first within the shard.
  const std::size_t share = finals.empty() ? 0 : max_ids / finals.size();
  for (const shard_image& final_state : finals) {
    const auto& ids = final_state.message_ids;
    const std::size_t keep = std::min(share, ids.size());
    next.message_ids.insert(next.message_ids.end(), ids.end() - static_cast<std::ptrdiff_t>(keep), ids.end());
  }
  return next;
}

} // namespace telluride
