#include "telluride/telemetry/duration_histogram.hpp"

namespace telluride {

void duration_histogram::add(double duration_us) noexcept {
  std::size_t i = 0;
  while (i < upper_bounds_us.size() && duration_us > upper_bounds_us[i])
    ++i;
  ++counts_[i];
}

std::uint64_t duration_histogram::cumulative(std::size_t i) const noexcept {
  std::uint64_t sum = 0;
  for (std::size_t j = 0; j <= i && j < bucket_count; ++j)
    sum += counts_[j];
  return sum;
}

} // namespace telluride
