// readings_of.hpp — readings of sensors 10/100/N and their fold, for the sensor table and
// batch fold tests.
#pragma once

#include "telluride/domain/batch_fold.hpp"
#include "telluride/domain/reading.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace telluride::test {

inline sensor_key key_of(std::int64_t sensor) {
  return sensor_key{json_id{10}, json_id{100}, json_id{sensor}};
}

inline reading reading_of(std::int64_t sensor, double value, std::string timestamp = "t") {
  return reading{key_of(sensor), value, std::move(timestamp), std::nullopt};
}

/// Folds readings held in a vector, as the tracker folds a batch's readings (by pointer).
inline std::span<const sensor_partial> fold(batch_folder& folder, const std::vector<reading>& batch) {
  std::vector<const reading*> pointers;
  for (const reading& r : batch)
    pointers.push_back(&r);
  return folder.fold(pointers);
}

} // namespace telluride::test
