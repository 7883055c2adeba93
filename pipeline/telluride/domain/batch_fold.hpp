// batch_fold.hpp — folds a batch of readings into one partial aggregate per sensor.
//
// A batch processor folds its batch on its own (no shared state), then hands the partials to
// the `sensor_table`, which merges them: one merge per sensor per batch instead of one
// update per reading.
#pragma once

#include "telluride/domain/reading.hpp"
#include "telluride/domain/running_stats.hpp"
#include "telluride/domain/sensor_key.hpp"

#include <span>
#include <string>
#include <vector>

namespace telluride {

/// The readings of one sensor within one batch.
struct sensor_partial {
  sensor_key key;
  running_stats stats;
  double last_reading = 0;     ///< the sensor's last reading in batch order
  std::string last_timestamp;  ///< and its timestamp
};

/// One partial per distinct sensor in `batch`, in order of each sensor's first reading.
/// `last_reading`/`last_timestamp` come from the sensor's last reading in `batch` order.
std::vector<sensor_partial> fold_batch(std::span<const reading> batch);
/// The same over readings that live elsewhere (no copies).
std::vector<sensor_partial> fold_batch(std::span<const reading* const> batch);

} // namespace telluride
