// duration_histogram.hpp — how long a stage instance's calls took, in fixed buckets.
//
// The buckets of /metrics' `telluride_stage_duration_seconds` histogram (docs/http.md,
// Metrics): from 10 µs to 5 s in steps of 1-5-10, and the rest above 5 s. Counts are kept per
// bucket (not cumulative) and made cumulative only for the exposition, so adding a call is one
// short scan and one increment. Pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace telluride {

class duration_histogram {
public:
  /// Upper bounds of the finite buckets, in microseconds (inclusive: Prometheus' `le`).
  static constexpr std::array<double, 12> upper_bounds_us{10,     50,      100,     500,     1'000,     5'000,
                                                          10'000, 50'000, 100'000, 500'000, 1'000'000, 5'000'000};
  /// The finite buckets and the one above the last bound (+Inf).
  static constexpr std::size_t bucket_count = upper_bounds_us.size() + 1;

  /// Counts one call of `duration_us` microseconds in the first bucket whose bound it does not
  /// exceed (+Inf beyond the last).
  void add(double duration_us) noexcept;

  /// Calls counted in bucket `i` alone (i < bucket_count; the last is +Inf).
  std::uint64_t count_in(std::size_t i) const noexcept { return counts_[i]; }
  /// Calls counted in bucket `i` and every bucket below it (Prometheus' cumulative count).
  std::uint64_t cumulative(std::size_t i) const noexcept;
  /// Every call counted.
  std::uint64_t total() const noexcept { return cumulative(bucket_count - 1); }

private:
  std::array<std::uint64_t, bucket_count> counts_{};
};

} // namespace telluride
