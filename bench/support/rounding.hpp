// rounding.hpp — figures as the benchmarks' JSON shows them.
#pragma once

#include <cmath>

namespace bench {

/// Rounded to `decimals` places, so that the JSON shows 1.15 rather than 1.1500000000000001.
inline double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

} // namespace bench
