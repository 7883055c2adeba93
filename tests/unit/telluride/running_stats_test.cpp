#include "telluride/domain/running_stats.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

using telluride::running_stats;

namespace {

running_stats of(const std::vector<double>& values) {
  running_stats stats;
  for (double x : values)
    stats.add(x);
  return stats;
}

double relative_error(double actual, double expected) {
  return expected == 0 ? std::abs(actual) : std::abs(actual - expected) / std::abs(expected);
}

} // namespace

TEST_CASE("empty stats report zeros") {
  const running_stats stats;
  CHECK(stats.count() == 0);
  CHECK(stats.min() == 0);
  CHECK(stats.max() == 0);
  CHECK(stats.mean() == 0);
  CHECK(stats.stddev() == 0);
}

TEST_CASE("one value has stddev 0 and is its own min, max and mean") {
  const running_stats stats = of({99.0263});
  CHECK(stats.count() == 1);
  CHECK(stats.min() == 99.0263);
  CHECK(stats.max() == 99.0263);
  CHECK(stats.mean() == 99.0263);
  CHECK(stats.stddev() == 0);
}

TEST_CASE("count, min, max, mean and population stddev of a known set are exact") {
  const running_stats stats = of({2, 4, 4, 4, 5, 5, 7, 9});
  CHECK(stats.count() == 8);
  CHECK(stats.min() == 2);
  CHECK(stats.max() == 9);
  CHECK(stats.mean() == 5);
  CHECK(stats.variance() == 4);
  CHECK(stats.stddev() == 2);
}

TEST_CASE("equal values have stddev exactly 0") {
  const running_stats stats = of(std::vector<double>(1000, 0.1));
  CHECK(stats.mean() == 0.1);
  CHECK(stats.stddev() == 0);
}

TEST_CASE("merging partials equals adding sequentially within 1e-12 relative") {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(99.4, 1.02);
  std::uniform_int_distribution<int> chunk(1, 250);
  std::vector<double> values(100000);
  for (double& x : values)
    x = noise(rng);
  const running_stats sequential = of(values);

  running_stats merged;
  for (std::size_t i = 0; i < values.size();) {
    const std::size_t end = std::min(values.size(), i + static_cast<std::size_t>(chunk(rng)));
    running_stats partial;
    for (; i < end; ++i)
      partial.add(values[i]);
    merged.merge(partial);
  }
  CHECK(merged.count() == sequential.count());
  CHECK(merged.min() == sequential.min());
  CHECK(merged.max() == sequential.max());
  CHECK(relative_error(merged.mean(), sequential.mean()) <= 1e-12);
  CHECK(relative_error(merged.stddev(), sequential.stddev()) <= 1e-12);
}

TEST_CASE("merging two halves of a known set gives its exact stats") {
  running_stats left = of({2, 4, 4, 4});
  left.merge(of({5, 5, 7, 9}));
  CHECK(left.count() == 8);
  CHECK(left.min() == 2);
  CHECK(left.max() == 9);
  CHECK(left.mean() == 5);
  CHECK(left.stddev() == 2);
}

TEST_CASE("merging with empty stats changes nothing, either way round") {
  const running_stats values = of({1, 2, 3});
  running_stats into_empty;
  into_empty.merge(values);
  running_stats with_empty = values;
  with_empty.merge(running_stats{});
  for (const running_stats& stats : {into_empty, with_empty}) {
    CHECK(stats.count() == 3);
    CHECK(stats.min() == 1);
    CHECK(stats.max() == 3);
    CHECK(stats.mean() == 2);
    CHECK(stats.variance() == doctest::Approx(2.0 / 3).epsilon(1e-15));
  }
}

TEST_CASE("readings at a large offset (1e9 + small noise) keep their stddev accurate") {
  // Values 1e9 + k/1024 are exact doubles, so exact mean and variance follow from integer sums.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> k_of(-2048, 2048);
  constexpr std::int64_t n = 200000;
  std::vector<double> values;
  __extension__ __int128 sum_k = 0;
  __extension__ __int128 sum_k2 = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t k = k_of(rng);
    values.push_back(1e9 + static_cast<double>(k) / 1024);
    sum_k += k;
    sum_k2 += k * k;
  }
  const double exact_mean = 1e9 + static_cast<double>(sum_k) / n / 1024;
  const double exact_variance =
      static_cast<double>(n * sum_k2 - sum_k * sum_k) / (static_cast<double>(n) * n) / 1048576;

  const running_stats sequential = of(values);
  running_stats merged;
  for (std::int64_t i = 0; i < n; i += 100)
    merged.merge(of({values.begin() + i, values.begin() + i + 100}));

  for (const running_stats& stats : {sequential, merged}) {
    CHECK(relative_error(stats.mean(), exact_mean) <= 1e-15);
    CHECK(relative_error(stats.stddev(), std::sqrt(exact_variance)) <= 1e-12);
  }
}

TEST_CASE("merging partials whose values sit at different offsets stays accurate") {
  running_stats low = of({1.0, 2.0, 3.0});
  const running_stats high = of({1e9 + 1, 1e9 + 2, 1e9 + 3});
  low.merge(high);
  CHECK(low.count() == 6);
  CHECK(low.mean() == 5e8 + 2);
  // Population stddev of {1, 2, 3, 1e9 + 1, 1e9 + 2, 1e9 + 3}: sqrt(0.25e18 + 2/3).
  CHECK(relative_error(low.stddev(), std::sqrt(0.25e18 + 2.0 / 3)) <= 1e-15);
}
