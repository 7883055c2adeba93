#include "telluride/telemetry/workload_meter.hpp"

#include <algorithm>

namespace telluride {

double workload_meter::close(microseconds busy_total, microseconds wall) noexcept {
  auto busy = carried_ + std::max(busy_total - busy_at_last_close_, microseconds{0});
  busy_at_last_close_ = busy_total;
  if (wall <= microseconds{0}) {
    carried_ = busy;
    return last_;
  }
  carried_ = std::max(busy - wall, microseconds{0});
  last_ = std::clamp(busy / wall, 0.0, 1.0);
  return last_;
}

} // namespace telluride
