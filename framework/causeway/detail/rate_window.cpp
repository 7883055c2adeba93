#include "causeway/detail/rate_window.hpp"

#include <algorithm>

namespace causeway::detail {

void rate_window::roll(time_point now) {
  if (!started_) {
    started_ = true;
    window_start_ = now;
    used_ = 0;
    return;
  }
  if (now - window_start_ >= limit_.interval) {
    // Align to the interval grid so a steady sender gets exactly `allowed` per interval.
    auto elapsed = (now - window_start_) / limit_.interval;
    window_start_ += elapsed * limit_.interval;
    used_ = 0;
  }
}

std::size_t rate_window::take(std::size_t n, time_point now) {
  if (is_unlimited())
    return n;
  roll(now);
  auto left = limit_.allowed > used_ ? limit_.allowed - used_ : 0;
  auto granted = static_cast<std::size_t>(std::min<std::uint64_t>(n, left));
  used_ += granted;
  return granted;
}

rate_window::time_point rate_window::next_permit(time_point now) const {
  if (is_unlimited() || !started_ || used_ < limit_.allowed || now - window_start_ >= limit_.interval)
    return now;
  return window_start_ + limit_.interval;
}

} // namespace causeway::detail
