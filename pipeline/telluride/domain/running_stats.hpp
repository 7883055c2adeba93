// running_stats.hpp — count, min, max, mean and population standard deviation of a stream of
// doubles, in O(1) memory, mergeable.
//
// Single values go in with Welford's update; two partial results combine with Chan, Golub and
// LeVeque's pairwise formula, so a batch processor can fold a batch on its own and the sensor
// table merge the result. No sum of squares is kept (it cancels catastrophically). Values are
// kept relative to the first value seen (the shift), so readings like 1e9 + noise keep the
// noise's precision: merging two stats shifts one into the other's frame exactly.
#pragma once

#include <cstdint>

namespace telluride {

class running_stats {
public:
  /// Adds one value. `x` must be finite.
  void add(double x) noexcept;

  /// Adds every value `other` has seen, as if they had been added here one by one (equal to
  /// the sequential result within rounding, ~1e-15 relative).
  void merge(const running_stats& other) noexcept;

  /// Exact number of values added.
  std::uint64_t count() const noexcept { return count_; }
  /// Exact smallest and largest value; 0 when count() == 0.
  double min() const noexcept { return min_; }
  double max() const noexcept { return max_; }
  /// Arithmetic mean; 0 when count() == 0.
  double mean() const noexcept { return shift_ + mean_; }
  /// Population variance (divides by count()); 0 when count() < 2.
  double variance() const noexcept;
  /// Population standard deviation: sqrt(variance()).
  double stddev() const noexcept;

private:
  std::uint64_t count_ = 0;
  double shift_ = 0;  // the first value: mean_ and m2_ are of (x - shift_)
  double mean_ = 0;   // mean of (x - shift_)
  double m2_ = 0;     // sum of squared deviations from the mean
  double min_ = 0;
  double max_ = 0;
};

} // namespace telluride
