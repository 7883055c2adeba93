#include "telluride/domain/sensor_table.hpp"

namespace telluride {

void sensor_table::apply(std::span<const sensor_partial> partials) {
  for (const sensor_partial& partial : partials)
    apply(partial);
}

void sensor_table::apply(const sensor_partial& partial) {
  auto [slot, is_new] = aggregates_.try_emplace(*partial.key);
  sensor_aggregate& aggregate = slot->second;
  if (is_new)
    aggregate.key = *partial.key;
  aggregate.stats.merge(partial.stats);
  aggregate.last_reading = partial.last_reading();
  aggregate.last_timestamp = partial.last_timestamp();  // reuses the string's capacity
  if (!aggregate.is_changed) {
    aggregate.is_changed = true;
    changed_.push_back(&aggregate);
  }
}

void sensor_table::take_changed(const std::function<void(const sensor_aggregate&)>& visit) {
  for (sensor_aggregate* aggregate : changed_) {
    aggregate->is_changed = false;
    visit(*aggregate);
  }
  changed_.clear();
}

const sensor_aggregate* sensor_table::find(const sensor_key& key) const {
  const auto found = aggregates_.find(key);
  return found == aggregates_.end() ? nullptr : &found->second;
}

void sensor_table::for_each(const std::function<void(const sensor_aggregate&)>& visit) const {
  for (const auto& [key, aggregate] : aggregates_)
    visit(aggregate);
}

} // namespace telluride
