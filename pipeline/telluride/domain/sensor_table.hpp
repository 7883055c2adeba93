// sensor_table.hpp — every sensor's aggregate since the daemon started.
//
// Batch processors fold their batches (`batch_folder`) and the table merges the partials; every
// `aggregate_interval` the publisher takes the aggregates that changed since its last turn.
// Not thread-safe: one owner (an actor) calls everything.
#pragma once

#include "telluride/domain/batch_fold.hpp"
#include "telluride/domain/sensor_aggregate.hpp"
#include "telluride/domain/sensor_key.hpp"

#include <cstddef>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

namespace telluride {

class sensor_table {
public:
  /// Merges each partial into its sensor's aggregate (creating it on first sight) and marks
  /// the aggregate changed. `last_reading`/`last_timestamp` take the partial's, so partials
  /// of one sensor must be applied in broker order.
  void apply(std::span<const sensor_partial> partials);
  void apply(const sensor_partial& partial);

  /// Visits the aggregates changed since the previous call, in the order they first changed,
  /// and clears their changed flags; visits nothing when nothing changed.
  void take_changed(const std::function<void(const sensor_aggregate&)>& visit);

  /// The sensor's aggregate, or nullptr for a sensor never seen. Sensors are never removed,
  /// so the pointer stays valid as long as the table (its contents change with `apply`).
  const sensor_aggregate* find(const sensor_key& key) const;

  /// Number of sensors seen.
  std::size_t size() const noexcept { return aggregates_.size(); }

  /// Calls `visit` for every aggregate, in no particular order.
  void for_each(const std::function<void(const sensor_aggregate&)>& visit) const;

private:
  std::unordered_map<sensor_key, sensor_aggregate, sensor_key_hash> aggregates_;
  std::vector<sensor_aggregate*> changed_;  // node pointers: stable across rehashing
};

} // namespace telluride
