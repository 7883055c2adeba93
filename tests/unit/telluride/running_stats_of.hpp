// running_stats_of.hpp — the stats of a list of values, for the running_stats tests.
#pragma once

#include "telluride/domain/running_stats.hpp"

#include <vector>

namespace telluride::test {

inline running_stats of(const std::vector<double>& values) {
  running_stats stats;
  for (double x : values)
    stats.add(x);
  return stats;
}

} // namespace telluride::test
