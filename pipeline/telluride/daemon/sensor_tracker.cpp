#include "telluride/daemon/sensor_tracker.hpp"

#include "telluride/domain/batch_fold.hpp"

#include <algorithm>

namespace telluride {

sensor_tracker::sensor_tracker(std::size_t shards, alert_rules rules, std::size_t id_capacity,
                               std::uint64_t max_sensors)
  : quota_(max_sensors) {
  shards = std::max<std::size_t>(shards, 1);
  auto per_shard = std::max<std::size_t>(id_capacity / shards, 1024);
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<shard>(rules, per_shard));
}

sensor_tracker::outcome sensor_tracker::apply(std::span<const input> readings) {
  outcome out;
  // Scratch kept per thread (batch processors run on the actor system's few threads), so a
  // warm batch allocates nothing here.
  thread_local std::vector<std::uint32_t> order;      // batch positions, grouped by shard
  thread_local std::vector<std::uint32_t> starts;     // first position of each shard in order
  const std::size_t n_shards = shards_.size();
  starts.assign(n_shards + 1, 0);
  for (const auto& r : readings)
    ++starts[r.decoded->hash % n_shards + 1];
  for (std::size_t i = 0; i < n_shards; ++i)
    starts[i + 1] += starts[i];
  order.resize(readings.size());
  {
    // Counting sort, stable: each shard keeps its readings in batch order.
    thread_local std::vector<std::uint32_t> next;
    next.assign(starts.begin(), starts.end() - 1);
    for (std::uint32_t i = 0; i < readings.size(); ++i)
      order[next[readings[i].decoded->hash % n_shards]++] = i;
  }
  for (std::size_t i = 0; i < n_shards; ++i)
    if (starts[i] != starts[i + 1])
      apply_to_shard(*shards_[i], readings, std::span{order}.subspan(starts[i], starts[i + 1] - starts[i]), out);
  if (!out.refused.empty()) {
    std::sort(out.refused.begin(), out.refused.end());
    out.is_first_refusal = refused_.fetch_add(out.refused.size(), std::memory_order_relaxed) == 0;
  }
  return out;
}

void sensor_tracker::apply_to_shard(shard& s, std::span<const input> readings,
                                    std::span<const std::uint32_t> positions, outcome& out) {
  thread_local std::vector<const reading*> all;
  thread_local std::vector<const reading*> fresh;
  thread_local std::vector<std::optional<std::uint32_t>> places;  // per partial; none: refused
  thread_local batch_folder folder;
  all.clear();
  for (std::uint32_t pos : positions)
    all.push_back(&readings[pos].decoded->reading);
  std::lock_guard guard{s.mutex};
  // Which sensors may be counted: the known ones, and new ones while the quota lasts.
  const auto partials = folder.fold(all);
  places.clear();
  for (const sensor_partial& partial : partials)
    places.push_back(s.table.admit(*partial.key, &quota_));
  // Then each reading in batch order: refused, a duplicate, or counted. A refused reading's
  // message_id is not recorded: a copy of it sent again (say, moved back from dlx_queue) is
  // refused and dead-lettered again, never dropped as a duplicate. (A new sensor whose only
  // readings here repeat other sensors' message ids keeps its place with no reads.)
  fresh.clear();
  bool has_duplicates = false;
  for (std::size_t k = 0; k < positions.size(); ++k) {
    const input& r = readings[positions[k]];
    if (!places[folder.partial_of(k)]) {
      out.refused.push_back(positions[k]);
      continue;
    }
    if (!r.message_id.empty() && !s.ids.first_time(r.message_id)) {
      ++out.duplicates;
      has_duplicates = true;
      continue;
    }
    if (auto raised = s.alerts.observe(r.decoded->reading)) {
      out.alerts.push_back(std::move(*raised));
      ++s.alerts_raised;
    }
    fresh.push_back(all[k]);
  }
  if (!has_duplicates) {
    for (std::size_t p = 0; p < partials.size(); ++p)
      if (places[p])
        s.table.merge(*places[p], partials[p]);
  } else {
    // Rare (redeliveries after a broker failure): fold again without the duplicates. Every
    // sensor left is known now.
    for (const sensor_partial& partial : folder.fold(fresh))
      s.table.merge(*s.table.admit(*partial.key), partial);
  }
  out.applied += fresh.size();
}

std::vector<std::string> sensor_tracker::take_changed_json() {
  std::vector<std::string> out;
  for (auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    s->table.take_changed([&](const sensor_aggregate& a) { out.push_back(to_json_text(a)); });
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
