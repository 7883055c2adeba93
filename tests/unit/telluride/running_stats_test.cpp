#include "running_stats_of.hpp"
#include "telluride/domain/running_stats.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <vector>

using telluride::running_stats;
using telluride::test::of;

namespace {

double relative_error(double actual, double expected) {
  return expected == 0 ? std::abs(actual) : std::abs(actual - expected) / std::abs(expected);
}

running_stats merged(std::initializer_list<running_stats> partials) {
  running_stats out;
  for (const running_stats& partial : partials)
    out.merge(partial);
  return out;
}

// The mean and population stddev computed independently: two passes in long double, whose
// range holds DBL_MAX² and whose 64-bit mantissa is finer than double's.
struct reference {
  double mean;
  double stddev;
};

reference reference_of(std::span<const double> values) {
  long double sum = 0;
  for (double x : values)
    sum += x;
  const long double mean = sum / static_cast<long double>(values.size());
  long double squares = 0;
  for (double x : values)
    squares += (x - mean) * (x - mean);
  return {static_cast<double>(mean),
          static_cast<double>(std::sqrt(squares / static_cast<long double>(values.size())))};
}

bool all_finite(const running_stats& stats) {
  return std::isfinite(stats.min()) && std::isfinite(stats.max()) && std::isfinite(stats.mean()) &&
         std::isfinite(stats.stddev());
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

TEST_CASE("readings of 1e308 and -1e308 give mean 0 and stddev 1e308, in either order") {
  for (const running_stats& stats : {of({1e308, -1e308}), of({-1e308, 1e308})}) {
    CHECK(stats.count() == 2);
    CHECK(stats.min() == -1e308);
    CHECK(stats.max() == 1e308);
    CHECK(stats.mean() == 0);
    CHECK(stats.stddev() == 1e308);
  }
  // And they stay right as readings go on: 1e308, -1e308, 0 has mean 0, stddev 1e308·√(2/3).
  running_stats stats = of({1e308, -1e308});
  stats.add(0);
  CHECK(stats.mean() == 0);
  CHECK(relative_error(stats.stddev(), 1e308 * std::sqrt(2.0 / 3)) <= 1e-15);
}

TEST_CASE("DBL_MAX twice has mean DBL_MAX and stddev 0") {
  const running_stats stats = of({DBL_MAX, DBL_MAX});
  CHECK(stats.count() == 2);
  CHECK(stats.min() == DBL_MAX);
  CHECK(stats.max() == DBL_MAX);
  CHECK(stats.mean() == DBL_MAX);
  CHECK(stats.stddev() == 0);
  const running_stats many = of(std::vector<double>(1000, -DBL_MAX));
  CHECK(many.mean() == -DBL_MAX);
  CHECK(many.stddev() == 0);
}

TEST_CASE("-DBL_MAX and DBL_MAX have mean 0 and stddev DBL_MAX, however often") {
  for (const running_stats& stats :
       {of({-DBL_MAX, DBL_MAX}), of({DBL_MAX, -DBL_MAX}), of({DBL_MAX, -DBL_MAX, -DBL_MAX, DBL_MAX})}) {
    CHECK(stats.min() == -DBL_MAX);
    CHECK(stats.max() == DBL_MAX);
    CHECK(stats.mean() == 0);
    CHECK(stats.stddev() == DBL_MAX);
  }
  // Three values: mean DBL_MAX/3, where (x - first) exceeds DBL_MAX for the last two.
  const running_stats three = of({-DBL_MAX, DBL_MAX, DBL_MAX});
  CHECK(relative_error(three.mean(), DBL_MAX / 3) <= 1e-15);
  CHECK(relative_error(three.stddev(), DBL_MAX / 3 * std::sqrt(8.0)) <= 1e-15);
}

TEST_CASE("a huge and a tiny reading: the tiny one is noise next to the huge one") {
  for (const running_stats& stats : {of({1e300, 1e-300}), of({1e-300, 1e300})}) {
    CHECK(stats.min() == 1e-300);
    CHECK(stats.max() == 1e300);
    CHECK(stats.mean() == 1e300 / 2);
    CHECK(stats.stddev() == 1e300 / 2);
  }
  std::vector<double> mixed;
  for (int i = 0; i < 1000; ++i) {
    mixed.push_back(1e-300);
    mixed.push_back(1e300);
  }
  const running_stats stats = of(mixed);
  CHECK(stats.count() == 2000);
  CHECK(relative_error(stats.mean(), 5e299) <= 1e-13);
  CHECK(relative_error(stats.stddev(), 5e299) <= 1e-13);
}

TEST_CASE("tiny readings keep their spread: their squares do not underflow") {
  const running_stats tiny = of({1e-300, 3e-300});
  CHECK(relative_error(tiny.mean(), 2e-300) <= 1e-15);
  CHECK(relative_error(tiny.stddev(), 1e-300) <= 1e-15);
  constexpr double smallest = std::numeric_limits<double>::denorm_min();
  const running_stats subnormal = of({smallest, 3 * smallest});
  CHECK(subnormal.mean() == 2 * smallest);
  CHECK(subnormal.stddev() == smallest);
  // Zeros first, then tiny values: mean 2e-300, stddev √(8/3)·1e-300.
  const running_stats after_zero = of({0, 2e-300, 4e-300});
  CHECK(relative_error(after_zero.mean(), 2e-300) <= 1e-15);
  CHECK(relative_error(after_zero.stddev(), std::sqrt(8.0 / 3) * 1e-300) <= 1e-15);
}

TEST_CASE("merging extreme partials in any order equals adding the values one by one") {
  const std::vector<std::vector<double>> parts = {
      {DBL_MAX, DBL_MAX / 2}, {1e-300, 3e-300, 0}, {1e308, -1e308}, {-DBL_MAX / 4}, {2.5, 1e300}};
  std::vector<double> all;
  for (const auto& part : parts)
    all.insert(all.end(), part.begin(), part.end());
  const reference expected = reference_of(all);
  const running_stats sequential = of(all);
  const running_stats a = of(parts[0]), b = of(parts[1]), c = of(parts[2]), d = of(parts[3]),
                      e = of(parts[4]);
  const running_stats ab = merged({a, b}), cd = merged({c, d}), ed = merged({e, d});
  const std::vector<running_stats> orders = {
      merged({a, b, c, d, e}), merged({e, d, c, b, a}), merged({c, a, e, b, d}),
      merged({merged({ab, cd}), e}), merged({e, merged({cd, ab})}), merged({merged({b, ed}), merged({c, a})})};
  CHECK(relative_error(sequential.mean(), expected.mean) <= 1e-15);
  CHECK(relative_error(sequential.stddev(), expected.stddev) <= 1e-15);
  for (const running_stats& stats : orders) {
    CHECK(stats.count() == all.size());
    CHECK(stats.min() == -1e308);
    CHECK(stats.max() == DBL_MAX);
    CHECK(relative_error(stats.mean(), sequential.mean()) <= 1e-15);
    CHECK(relative_error(stats.stddev(), sequential.stddev()) <= 1e-15);
  }
  // The examples of the issue, merged from one-value partials both ways round.
  CHECK(merged({of({1e308}), of({-1e308})}).mean() == 0);
  CHECK(merged({of({-1e308}), of({1e308})}).stddev() == 1e308);
  CHECK(merged({of({DBL_MAX}), of({-DBL_MAX})}).stddev() == DBL_MAX);
  CHECK(merged({of({1e-300}), of({1e300})}).mean() == 1e300 / 2);
  CHECK(merged({of({1e300}), of({1e-300, 3e-300})}).mean() == doctest::Approx(1e300 / 3).epsilon(1e-15));
}

TEST_CASE("any finite doubles give finite stats within 1e-12 of the exact ones, merged or not") {
  // Magnitudes over the whole range of doubles, subnormals included, both signs. The mean is
  // judged against the values' spread: an exact mean far below it (cancellation) is not the
  // promise.
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<int> exponent(-1074, 1023);
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> length(1, 400);
  std::uniform_int_distribution<int> chunk(1, 40);
  for (int round = 0; round < 300; ++round) {
    std::vector<double> values(static_cast<std::size_t>(length(rng)));
    const int top = exponent(rng);  // each round spans its own part of the range
    std::uniform_int_distribution<int> below(std::max(-1074, top - 1 - static_cast<int>(rng() % 2100)), top);
    for (double& x : values) {
      x = std::ldexp(mantissa(rng), below(rng));
      x = std::min(x, DBL_MAX);
      if (rng() % 2 == 0)
        x = -x;
    }
    const reference expected = reference_of(values);
    const running_stats sequential = of(values);
    running_stats chunked;
    for (std::size_t i = 0; i < values.size();) {
      const std::size_t end = std::min(values.size(), i + static_cast<std::size_t>(chunk(rng)));
      running_stats partial;
      for (; i < end; ++i)
        partial.add(values[i]);
      chunked.merge(partial);
    }
    for (const running_stats& stats : {sequential, chunked}) {
      CAPTURE(round);
      REQUIRE(all_finite(stats));
      CHECK(stats.count() == values.size());
      CHECK(stats.min() == *std::min_element(values.begin(), values.end()));
      CHECK(stats.max() == *std::max_element(values.begin(), values.end()));
      const double scale = std::max(std::abs(expected.mean), expected.stddev);
      CHECK(std::abs(stats.mean() - expected.mean) <= 1e-12 * scale);
      CHECK(relative_error(stats.stddev(), expected.stddev) <= 1e-12);
    }
  }
}

TEST_CASE("the mean stays exact when huge values cancel") {
  CHECK(of({1e308, -1e308, 1}).mean() == 1.0 / 3);
  CHECK(of({1e308, 1, -1e308}).mean() == 1.0 / 3);
  std::vector<double> alternating;
  for (int i = 0; i < 1000; ++i) {
    alternating.push_back(1e308);
    alternating.push_back(-1e308);
  }
  const running_stats stats = of(alternating);
  CHECK(stats.mean() == 0);
  CHECK(stats.stddev() == 1e308);
  alternating.push_back(7);
  CHECK(of(alternating).mean() == 7.0 / 2001);
  CHECK(merged({of({1e308, 2}), of({-1e308, 4})}).mean() == 1.5);
}
