#include "telluride/domain/running_stats.hpp"

#include <algorithm>
#include <cmath>

namespace telluride {

void running_stats::add(double x) noexcept {
  if (count_ == 0) {
    count_ = 1;
    shift_ = x;
    min_ = max_ = x;
    return;
  }
  ++count_;
  min_ = std::min(min_, x);
  max_ = std::max(max_, x);
  const double y = x - shift_;
  const double delta = y - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (y - mean_);
}

void running_stats::merge(const running_stats& other) noexcept {
  if (other.count_ == 0)
    return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  const auto n_a = static_cast<double>(count_);
  const auto n_b = static_cast<double>(other.count_);
  const double n = n_a + n_b;
  // other's mean in this frame: the shifts are usually close, so their difference is exact.
  const double delta = (other.shift_ - shift_) + other.mean_ - mean_;
  mean_ += delta * (n_b / n);
  m2_ += other.m2_ + delta * delta * (n_a * n_b / n);
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double running_stats::variance() const noexcept {
  if (count_ < 2)
    return 0;
  return std::max(0.0, m2_ / static_cast<double>(count_));
}

double running_stats::stddev() const noexcept {
  return std::sqrt(variance());
}

} // namespace telluride
