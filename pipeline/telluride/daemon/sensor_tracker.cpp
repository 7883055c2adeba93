#include "telluride/daemon/sensor_tracker.hpp"

#include "telluride/domain/batch_fold.hpp"

#include <algorithm>

namespace telluride {

sensor_tracker::sensor_tracker(std::size_t shards, alert_rules rules, std::size_t id_capacity) {
  shards = std::max<std::size_t>(shards, 1);
  auto per_shard = std::max<std::size_t>(id_capacity / shards, 1024);
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<shard>(rules, per_shard));
}

sensor_tracker::outcome sensor_tracker::apply(std::span<const decoded_reading* const> readings) {
  outcome out;
  // Group by shard, keeping each shard's readings in batch order.
  std::vector<std::vector<const decoded_reading*>> by_shard(shards_.size());
  for (const auto* r : readings)
    by_shard[r->hash % shards_.size()].push_back(r);
  std::vector<const reading*> fresh;
  for (std::size_t i = 0; i < by_shard.size(); ++i) {
    if (by_shard[i].empty())
      continue;
    auto& s = *shards_[i];
    fresh.clear();
    std::lock_guard guard{s.mutex};
    for (const auto* r : by_shard[i]) {
      if (!r->message_id.empty() && !s.ids.first_time(r->message_id)) {
        ++out.duplicates;
        continue;
      }
      if (auto raised = s.alerts.observe(r->reading)) {
        out.alerts.push_back(std::move(*raised));
        ++s.alerts_raised;
      }
      fresh.push_back(&r->reading);
    }
    s.table.apply(fold_batch(std::span<const reading* const>{fresh}));
    out.applied += fresh.size();
  }
  return out;
}

std::vector<sensor_aggregate> sensor_tracker::take_changed() {
  std::vector<sensor_aggregate> out;
  for (auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    auto changed = s->table.take_changed();
    std::move(changed.begin(), changed.end(), std::back_inserter(out));
  }
  return out;
}

std::optional<sensor_aggregate> sensor_tracker::find(const sensor_key& key) const {
  auto& s = shard_of(hash_value(key));
  std::lock_guard guard{s.mutex};
  if (const auto* found = s.table.find(key))
    return *found;
  return std::nullopt;
}

std::size_t sensor_tracker::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    n += s->table.size();
  }
  return n;
}

std::uint64_t sensor_tracker::alerts_raised() const {
  std::uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    n += s->alerts_raised;
  }
  return n;
}

} // namespace telluride
