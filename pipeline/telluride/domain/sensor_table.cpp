#include "telluride/domain/sensor_table.hpp"

#include <algorithm>

namespace telluride {

void sensor_table::apply(std::span<const sensor_partial> partials) {
  for (const sensor_partial& partial : partials)
    apply(partial);
}

void sensor_table::apply(const sensor_partial& partial) {
  merge(*admit(*partial.key, partial.hash), partial);
}

std::optional<std::uint32_t> sensor_table::admit(const sensor_key& key, std::uint64_t hash, sensor_quota* quota) {
  std::size_t slot = slots_.empty() ? 0 : probe(key, hash);
  if (!slots_.empty() && slots_[slot].position != empty_slot)
    return slots_[slot].position - 1;
  if (quota != nullptr && !quota->try_take())
    return std::nullopt;
  // At most half full: short probe sequences.
  if (2 * (aggregates_.size() + 1) > slots_.size()) {
    grow();
    slot = probe(key, hash);
  }
  aggregates_.emplace_back().key = key;
  is_changed_.push_back(false);
  slots_[slot] = {static_cast<std::uint32_t>(aggregates_.size()), tag_of(hash)};
  return static_cast<std::uint32_t>(aggregates_.size() - 1);
}

void sensor_table::merge(std::uint32_t position, const sensor_partial& partial) {
  sensor_aggregate& aggregate = aggregates_[position];
  aggregate.stats.merge(partial.stats);
  aggregate.last_reading = partial.last_reading();
  aggregate.last_timestamp = partial.last_timestamp();  // its numbers too: read when the reading came
  mark_changed(position);
}

std::uint32_t sensor_table::assign(const sensor_aggregate& aggregate) {
  const std::uint32_t position = *admit(aggregate.key.key());
  sensor_aggregate& kept = aggregates_[position];
  kept.stats = aggregate.stats;
  kept.last_reading = aggregate.last_reading;
  kept.last_timestamp = aggregate.last_timestamp;
  mark_changed(position);
  return position;
}

void sensor_table::mark_changed(std::uint32_t position) {
  if (!is_changed_[position]) {
    is_changed_[position] = true;
    changed_.push_back(position);
  }
}

void sensor_table::take_changed(const std::function<void(const sensor_aggregate&)>& visit) {
  take_changed(visit, changed_.size());
}

std::size_t sensor_table::take_changed(const std::function<void(const sensor_aggregate&)>& visit,
                                       std::size_t max) {
  const std::size_t n = std::min(max, changed_.size());
  for (std::size_t i = 0; i < n; ++i) {
    is_changed_[changed_[i]] = false;
    visit(aggregates_[changed_[i]]);
  }
  changed_.erase(changed_.begin(), changed_.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

const sensor_aggregate* sensor_table::find(const sensor_key& key) const {
  if (slots_.empty())
    return nullptr;
  const std::uint32_t found = slots_[probe(key, hash_value(key))].position;
  return found == empty_slot ? nullptr : &aggregates_[found - 1];
}

void sensor_table::for_each(const std::function<void(const sensor_aggregate&)>& visit) const {
  for (const sensor_aggregate& aggregate : aggregates_)
    visit(aggregate);
}

std::size_t sensor_table::probe(const sensor_key& key, std::uint64_t hash) const noexcept {
  std::size_t at = probe_tag(hash, home(hash));
  // A tag that matches for another key (two hashes alike in their upper half): read on.
  while (slots_[at].position != empty_slot && !(aggregates_[slots_[at].position - 1].key == key))
    at = probe_tag(hash, next(at));
  return at;
}

std::size_t sensor_table::probe_tag(std::uint64_t hash, std::size_t at) const noexcept {
  const std::uint32_t tag = tag_of(hash);
  while (slots_[at].position != empty_slot && slots_[at].tag != tag)
    at = next(at);
  return at;
}

void sensor_table::grow() {
  slots_.assign(std::max<std::size_t>(16, slots_.size() * 2), slot{});
  for (std::size_t position = 0; position < aggregates_.size(); ++position) {
    const std::uint64_t hash = aggregates_[position].key.hash();
    std::size_t at = home(hash);
    while (slots_[at].position != empty_slot)
      at = next(at);
    slots_[at] = {static_cast<std::uint32_t>(position + 1), tag_of(hash)};
  }
}

} // namespace telluride
