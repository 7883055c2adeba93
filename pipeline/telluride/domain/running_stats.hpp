// running_stats.hpp — count, min, max, mean and population standard deviation of a stream of
// doubles, in O(1) memory, mergeable, finite for any finite input.
//
// Single values go in with Welford's update; two partial results combine with Chan, Golub and
// LeVeque's pairwise formula, so a batch processor can fold a batch on its own and the sensor
// table merge the result. No sum of squares is kept (it cancels catastrophically): the
// deviations are kept relative to the first value seen (the origin), so readings like
// 1e9 + noise keep the noise's precision. The mean comes from a compensated sum (double-double:
// each addition's rounding error is kept exactly and summed apart), so values that cancel do
// not take it with them: 1e308, -1e308, 1 has mean 1/3.
//
// Any finite doubles, ±DBL_MAX and subnormals included: the state is kept in a frame, a power
// of two 2^e (e a multiple of 64, set by the first value) that follows the largest magnitude
// seen: values are stored as x / 2^e. Scaling by a power of two is exact, so ordinary
// readings compute exactly as without a frame, while differences of huge values
// (DBL_MAX - -DBL_MAX) and their squares cannot overflow and squares of tiny ones (1e-300²)
// cannot underflow. The frame moves up only when a value exceeds it by 2^256, so a stream
// changes frame a handful of times at most; what a move rounds away is below 2^-1000 of the
// largest value. Partials of one sensor nearly always share a frame, so merging them costs
// no rescaling.
//
// Accuracy: count, min and max are exact. The mean is within a few ulps of itself plus
// ~n·2^-104 of the mean magnitude of the values (two-sum errors are exact, their sum is
// rounded), so cancelling values keep it exact: 1e308, -1e308 alternating has mean 0. Parts
// below ~2^-1000 of the largest value (1e-300 next to 1e300) may be lost, which shows only if
// everything larger cancels exactly. The standard deviation is within ~1e-15 relative for the
// streams the daemon sees, merged or sequential, and 0 exactly when all values are equal.
#pragma once

#include "telluride/domain/expected.hpp"

#include <cmath>
#include <cstdint>

namespace telluride {

class running_stats {
public:
  /// Adds one value. `x` must be finite.
  void add(double x) noexcept {
    if (count_ == 0) {
      start(x);
      return;
    }
    count_ += count_ != max_count;  // saturates: a restored state may start anywhere
    min_ = x < min_ ? x : min_;
    max_ = x > max_ ? x : max_;
    double scaled = x * inverse_unit_;
    if (!(std::fabs(scaled) <= frame_limit)) [[unlikely]]  // inf too
      scaled = enlarge_frame(x);
    // Two-sum: sum_ + scaled == s + error exactly.
    const double s = sum_ + scaled;
    const double back = s - sum_;
    sum_error_ += (sum_ - (s - back)) + (scaled - back);
    sum_ = s;
    const double y = scaled - origin_;
    const double delta = y - mean_;
    mean_ += delta / static_cast<double>(count_);
    m2_ += delta * (y - mean_);
  }

  /// Adds every value `other` has seen, as if they had been added here one by one (equal to
  /// the sequential result within rounding, ~1e-15 relative).
  void merge(const running_stats& other) noexcept;

  /// Exact number of values added (it stops at 2^64 - 1 rather than wrap to 0).
  std::uint64_t count() const noexcept { return count_; }
  /// Exact smallest and largest value; 0 when count() == 0.
  double min() const noexcept { return min_; }
  double max() const noexcept { return max_; }
  /// Arithmetic mean, within [min(), max()]; 0 when count() == 0. Always finite.
  double mean() const noexcept;
  /// Population variance (divides by count()); 0 when count() < 2. +inf when it exceeds the
  /// largest double (a standard deviation above ~1.3e154): use stddev().
  double variance() const noexcept;
  /// Population standard deviation, at most (max() - min()) / 2. Always finite.
  double stddev() const noexcept;

  /// The state exactly as the object keeps it (the members below), for checkpoints: a
  /// running_stats rebuilt from it with from_raw answers every question, and takes every
  /// further add and merge, bit for bit as this one.
  struct raw_state {
    std::uint64_t count = 0;
    double origin = 0;
    double mean = 0;
    double m2 = 0;
    double min = 0;
    double max = 0;
    double sum = 0;
    double sum_error = 0;
    double inverse_unit = 1;
  };
  raw_state raw() const noexcept;

  /// The stats whose raw() is `state`. An error naming the problem when no stream of finite
  /// values leads to `state`: a double that is not finite, min above max, an inverse_unit that
  /// is not one of the frames, a value beyond the bounds the frame keeps (which further adds
  /// could overflow), or count 0 with any other member not at its initial value.
  static expected<running_stats> from_raw(const raw_state& state);

private:
  /// Scaled values beyond ±2^256 move the frame: differences stay below 2^257, squares below
  /// 2^514, and a sum of 2^64 of them below 2^578, far from overflow.
  static constexpr double frame_limit = 0x1p256;
  static constexpr std::uint64_t max_count = ~std::uint64_t{0};

  void start(double x) noexcept;
  /// Moves the frame up to `x`'s magnitude (rescaling the state); returns `x` scaled.
  double enlarge_frame(double x) noexcept;
  /// Multiplies the state by 2^-shift (a frame `shift` powers of two higher).
  void scale_down(int shift) noexcept;
  /// The frame's exponent e (values are stored as x / 2^e).
  int frame() const noexcept;

  std::uint64_t count_ = 0;
  double origin_ = 0;        // the first value, scaled: mean_ and m2_ are of (x - first)
  double mean_ = 0;          // mean of (x - first), scaled (Welford's, for m2_)
  double m2_ = 0;            // sum of squared deviations from the mean, scaled twice
  double min_ = 0;
  double max_ = 0;
  double sum_ = 0;           // the sum of the values, scaled, is sum_ + sum_error_
  double sum_error_ = 0;
  double inverse_unit_ = 1;  // 2^-e: a value x is x * inverse_unit_ in the frame
};

} // namespace telluride
