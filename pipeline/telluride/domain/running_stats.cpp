#include "telluride/domain/running_stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace telluride {

namespace {

/// The binary exponent of |x| (ilogb) for a normal x; -1023 for 0 and subnormals. From the
/// bits: no libm call on the path of every partial's first value.
int exponent_of(double x) noexcept {
  return static_cast<int>((std::bit_cast<std::uint64_t>(x) >> 52) & 0x7ff) - 1023;
}

/// 2^e for e in -1022..1023.
double power_of_two(int e) noexcept {
  return std::bit_cast<double>(static_cast<std::uint64_t>(e + 1023) << 52);
}

/// The frame for a value of magnitude |x|: its binary exponent rounded down to a multiple of
/// 64, so that the partials of one sensor nearly always share their frame (1.01 and 0.99 do),
/// kept where 2^e and 2^-e are both normal doubles (a subnormal x scales up exactly into the
/// normal range). A value is then below 2^64 in its own frame.
int frame_for(double x) noexcept {
  return std::clamp(exponent_of(x) & ~63, -1022, 1022);
}

/// Whether `inverse_unit` is 2^-e for a frame e that frame_for gives (a multiple of 64 in
/// -960..960, or -1022).
bool is_frame_unit(double inverse_unit) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(inverse_unit);
  if ((bits & ((std::uint64_t{1} << 52) - 1)) != 0 || (bits >> 63) != 0)
    return false;  // not a positive power of two
  const int e = -exponent_of(inverse_unit);
  return e == -1022 || (e % 64 == 0 && e >= -960 && e <= 960);
}

} // namespace

static_assert(sizeof(running_stats::raw_state) == 9 * 8, "raw_state has no padding: memcmp compares it");

running_stats::raw_state running_stats::raw() const noexcept {
  return raw_state{count_, origin_, mean_, m2_, min_, max_, sum_, sum_error_, inverse_unit_};
}

expected<running_stats> running_stats::from_raw(const raw_state& state) {
  if (state.count == 0) {
    // Bit for bit the initial state: 0 is +0, so -0 is refused too.
    const raw_state initial;
    if (std::memcmp(&state, &initial, sizeof state) != 0)
      return error{"running_stats with count 0 holds values"};
    return running_stats{};
  }
  for (double x : {state.origin, state.mean, state.m2, state.min, state.max, state.sum, state.sum_error})
    if (!std::isfinite(x))
      return error{"running_stats holds a value that is not finite"};
  if (!(state.min <= state.max))
    return error{"running_stats has min above max"};
  if (!is_frame_unit(state.inverse_unit))
    return error{"running_stats has an inverse_unit that is not a frame"};
  // What add and merge keep (frame_limit): scaled values within ±2^256, so deviations from the
  // origin within 2^257 and their squares below 2^514 each (2^516 leaves room for rounding),
  // sums below count · 2^256 (2^260 likewise). A state within these bounds stays finite under
  // further adds and merges; one beyond them could overflow.
  const double n = static_cast<double>(state.count);
  const double u = state.inverse_unit;
  if (!(std::fabs(state.origin) <= frame_limit && std::fabs(state.min * u) <= frame_limit &&
        std::fabs(state.max * u) <= frame_limit && std::fabs(state.mean) <= 2 * frame_limit &&
        state.m2 >= 0 && state.m2 <= n * 0x1p516 && std::fabs(state.sum) <= n * 0x1p260 &&
        std::fabs(state.sum_error) <= n * 0x1p260))
    return error{"running_stats holds a value beyond what its frame allows"};
  running_stats out;
  out.count_ = state.count;
  out.origin_ = state.origin;
  out.mean_ = state.mean;
  out.m2_ = state.m2;
  out.min_ = state.min;
  out.max_ = state.max;
  out.sum_ = state.sum;
  out.sum_error_ = state.sum_error;
  out.inverse_unit_ = state.inverse_unit;
  return out;
}

void running_stats::start(double x) noexcept {
  count_ = 1;
  min_ = max_ = x;
  inverse_unit_ = power_of_two(-frame_for(x));
  origin_ = x * inverse_unit_;
  mean_ = 0;
  m2_ = 0;
  sum_ = origin_;
  sum_error_ = 0;
}

int running_stats::frame() const noexcept {
  return -exponent_of(inverse_unit_);
}

void running_stats::scale_down(int shift) noexcept {
  origin_ = std::ldexp(origin_, -shift);
  mean_ = std::ldexp(mean_, -shift);
  m2_ = std::ldexp(m2_, -2 * shift);
  sum_ = std::ldexp(sum_, -shift);
  sum_error_ = std::ldexp(sum_error_, -shift);
}

double running_stats::enlarge_frame(double x) noexcept {
  // Only a value beyond 2^256 in the frame gets here, so the new frame is higher.
  const int to = frame_for(x);
  scale_down(to - frame());
  inverse_unit_ = power_of_two(-to);
  return x * inverse_unit_;
}

void running_stats::merge(const running_stats& other) noexcept {
  if (other.count_ == 0)
    return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  // Both in the higher of the two frames.
  double other_origin = other.origin_;
  double other_mean = other.mean_;
  double other_m2 = other.m2_;
  double other_sum = other.sum_;
  double other_sum_error = other.sum_error_;
  if (other.inverse_unit_ < inverse_unit_) {
    scale_down(other.frame() - frame());
    inverse_unit_ = other.inverse_unit_;
  } else if (other.inverse_unit_ > inverse_unit_) {
    const int shift = frame() - other.frame();
    other_origin = std::ldexp(other_origin, -shift);
    other_mean = std::ldexp(other_mean, -shift);
    other_m2 = std::ldexp(other_m2, -2 * shift);
    other_sum = std::ldexp(other_sum, -shift);
    other_sum_error = std::ldexp(other_sum_error, -shift);
  }
  const auto n_a = static_cast<double>(count_);
  const auto n_b = static_cast<double>(other.count_);
  const double n = n_a + n_b;
  // other's mean relative to this origin: the origins are usually close, so their
  // difference is exact.
  const double delta = (other_origin - origin_) + other_mean - mean_;
  mean_ += delta * (n_b / n);
  m2_ += other_m2 + delta * delta * (n_a * n_b / n);
  const double sum = sum_ + other_sum;  // two-sum, as in add()
  const double back = sum - sum_;
  sum_error_ += other_sum_error + ((sum_ - (sum - back)) + (other_sum - back));
  sum_ = sum;
  count_ = other.count_ > max_count - count_ ? max_count : count_ + other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double running_stats::mean() const noexcept {
  if (count_ == 0)
    return 0;
  // The true mean lies within [min, max]: clamping only removes rounding (and the overflow
  // that rounding could cause next to ±DBL_MAX).
  // Divide in the frame when the quotient could overflow out of it, else leave the frame
  // first: a small quotient in a high frame would be subnormal and lose bits.
  const double total = sum_ + sum_error_;
  const auto n = static_cast<double>(count_);
  const double mean = std::fabs(total) >= 1 ? std::ldexp(total / n, frame()) : std::ldexp(total, frame()) / n;
  return std::clamp(mean, min_, max_);
}

double running_stats::variance() const noexcept {
  if (count_ < 2)
    return 0;
  return std::ldexp(std::max(0.0, m2_ / static_cast<double>(count_)), 2 * frame());
}

double running_stats::stddev() const noexcept {
  if (count_ < 2)
    return 0;
  const double scaled = std::sqrt(std::max(0.0, m2_ / static_cast<double>(count_)));
  // A population's standard deviation is at most half its range; halves cannot overflow.
  return std::min(std::ldexp(scaled, frame()), max_ / 2 - min_ / 2);
}

} // namespace telluride
