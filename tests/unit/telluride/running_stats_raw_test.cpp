// running_stats's raw state: what a checkpoint saves of a sensor's statistics and brings back.
#include "running_stats_of.hpp"
#include "telluride/domain/running_stats.hpp"

#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace running_stats_raw_test {

using telluride::running_stats;
using telluride::test::of;

namespace {

bool same_bits(const running_stats::raw_state& a, const running_stats::raw_state& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

/// Every answer of `a` and `b`, bit for bit.
void check_same_answers(const running_stats& a, const running_stats& b) {
  CHECK(same_bits(a.raw(), b.raw()));
  CHECK(a.count() == b.count());
  CHECK(same_bits(a.min(), b.min()));
  CHECK(same_bits(a.max(), b.max()));
  CHECK(same_bits(a.mean(), b.mean()));
  CHECK(same_bits(a.variance(), b.variance()));
  CHECK(same_bits(a.stddev(), b.stddev()));
}

} // namespace

TEST_CASE("stats rebuilt from their raw state answer and go on bit for bit as the original") {
  running_stats merged = of({99.1, 99.5});
  merged.merge(of({100.2, 98.7, 99.9}));
  const std::vector<running_stats> originals = {
      running_stats{},
      of({99.0263}),
      of({2, 4, 4, 4, 5, 5, 7, 9}),
      of({1e308, -1e308, 1}),           // the mean lives in the compensated sum
      of({DBL_MAX, -DBL_MAX}),
      of({4.9e-324, 1e-310, -2e-320}),  // subnormals: the lowest frame
      of({1, 1e300}),                   // the frame moved up
      merged,
  };
  for (const running_stats& original : originals) {
    CAPTURE(original.count());
    const auto rebuilt = running_stats::from_raw(original.raw());
    REQUIRE(rebuilt.has_value());
    check_same_answers(*rebuilt, original);
    // Both take the same further values and partials the same way.
    running_stats a = original;
    running_stats b = *rebuilt;
    for (double x : {42.0, -1e308, 1e-300, 7.5}) {
      a.add(x);
      b.add(x);
    }
    const running_stats partial = of({3.25, 1e200});
    a.merge(partial);
    b.merge(partial);
    check_same_answers(a, b);
    running_stats into_a = partial;
    running_stats into_b = partial;
    into_a.merge(original);
    into_b.merge(*rebuilt);
    check_same_answers(into_a, into_b);
  }
}

TEST_CASE("the raw state of 1e308, -1e308, 1 keeps its exact mean of 1/3") {
  const auto rebuilt = running_stats::from_raw(of({1e308, -1e308, 1}).raw());
  REQUIRE(rebuilt.has_value());
  CHECK(rebuilt->mean() == 1.0 / 3);
  CHECK(rebuilt->min() == -1e308);
  CHECK(rebuilt->max() == 1e308);
  CHECK(rebuilt->count() == 3);
}

TEST_CASE("raw states that no stream of finite values reaches are refused with the reason") {
  const running_stats::raw_state valid = of({1, 2, 3}).raw();
  struct refused {
    const char* what;
    running_stats::raw_state state;
    const char* reason;
  };
  auto with = [&](auto change) {
    running_stats::raw_state s = valid;
    change(s);
    return s;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<refused> cases = {
      {"NaN mean", with([&](auto& s) { s.mean = nan; }), "running_stats holds a value that is not finite"},
      {"infinite m2", with([&](auto& s) { s.m2 = inf; }), "running_stats holds a value that is not finite"},
      {"infinite sum error", with([&](auto& s) { s.sum_error = -inf; }), "running_stats holds a value that is not finite"},
      {"min above max", with([](auto& s) { s.min = 4; }), "running_stats has min above max"},
      {"NaN min", with([&](auto& s) { s.min = nan; }), "running_stats holds a value that is not finite"},
      {"unit 3", with([](auto& s) { s.inverse_unit = 3; }), "running_stats has an inverse_unit that is not a frame"},
      {"unit 2^-1", with([](auto& s) { s.inverse_unit = 0.5; }), "running_stats has an inverse_unit that is not a frame"},
      {"unit -1", with([](auto& s) { s.inverse_unit = -1; }), "running_stats has an inverse_unit that is not a frame"},
      {"unit 2^-1024", with([](auto& s) { s.inverse_unit = 0x1p-1024; }), "running_stats has an inverse_unit that is not a frame"},
      {"unit 0", with([](auto& s) { s.inverse_unit = 0; }), "running_stats has an inverse_unit that is not a frame"},
      {"unit inf", with([&](auto& s) { s.inverse_unit = inf; }), "running_stats has an inverse_unit that is not a frame"},
      {"origin past 2^256", with([](auto& s) { s.origin = 0x1.1p256; }), "running_stats holds a value beyond what its frame allows"},
      {"max past 2^256 in its frame", with([](auto& s) { s.max = 0x1p300; }), "running_stats holds a value beyond what its frame allows"},
      {"mean past 2^257", with([](auto& s) { s.mean = -0x1.1p257; }), "running_stats holds a value beyond what its frame allows"},
      {"negative m2", with([](auto& s) { s.m2 = -1; }), "running_stats holds a value beyond what its frame allows"},
      {"m2 past count · 2^516", with([](auto& s) { s.m2 = 0x1p518; }), "running_stats holds a value beyond what its frame allows"},
      {"sum past count · 2^260", with([](auto& s) { s.sum = 0x1p262; }), "running_stats holds a value beyond what its frame allows"},
      {"sum error past count · 2^260", with([](auto& s) { s.sum_error = -0x1p262; }), "running_stats holds a value beyond what its frame allows"},
      {"count 0 with a min", running_stats::raw_state{0, 0, 0, 0, 1, 0, 0, 0, 1}, "running_stats with count 0 holds values"},
      {"count 0 with -0", running_stats::raw_state{0, -0.0, 0, 0, 0, 0, 0, 0, 1}, "running_stats with count 0 holds values"},
      {"count 0 with unit 2^64", running_stats::raw_state{0, 0, 0, 0, 0, 0, 0, 0, 0x1p64}, "running_stats with count 0 holds values"},
  };
  for (const refused& c : cases) {
    CAPTURE(c.what);
    const auto result = running_stats::from_raw(c.state);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.err().message == c.reason);
  }
  // The frames themselves are accepted (one reading of 0): the lowest (2^-1022 up: unit
  // 2^1022), 2^0, the highest.
  for (double unit : {0x1p1022, 0x1p960, 1.0, 0x1p-64, 0x1p-960}) {
    CAPTURE(unit);
    CHECK(running_stats::from_raw(running_stats::raw_state{1, 0, 0, 0, 0, 0, 0, 0, unit}).has_value());
  }
  // And the bounds themselves (count 3).
  CHECK(running_stats::from_raw(with([](auto& s) {
          s.origin = 0x1p256;
          s.mean = -0x1p257;
          s.m2 = 3 * 0x1p516;
          s.sum = 3 * 0x1p260;
          s.max = 0x1p256;
        })).has_value());
}

TEST_CASE("every state that adds and merges of extreme values reach is accepted from its raw form") {
  const std::vector<double> palette = {DBL_MAX, -DBL_MAX, 1e308, -1e308, 1e300, -1e200, 1e-308, -4.9e-324,
                                       2.2e-320, 0.0, -0.0, 99.4, -1.5, 1e20, 7e-100, 3e150};
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::size_t> pick(0, palette.size() - 1);
  std::uniform_int_distribution<int> length(1, 40);
  int refused = 0;
  for (int stream = 0; stream < 2000; ++stream) {
    running_stats whole;
    running_stats partial;
    for (int i = length(rng); i > 0; --i) {
      partial.add(palette[pick(rng)]);
      if (pick(rng) < 4) {  // a batch ends: merge it, as the sensor table does
        whole.merge(partial);
        partial = running_stats{};
      }
      refused += !running_stats::from_raw(whole.raw()).has_value();
      refused += !running_stats::from_raw(partial.raw()).has_value();
    }
  }
  CHECK(refused == 0);
}

TEST_CASE("a count restored near 2^64 stops at 2^64 - 1 under adds and merges instead of wrapping to 0") {
  constexpr std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  auto raw = of({99.0, 101.0}).raw();
  raw.count = top - 1;
  auto stats = running_stats::from_raw(raw);
  REQUIRE(stats.has_value());
  stats->add(100.0);
  CHECK(stats->count() == top);
  stats->add(100.0);
  CHECK(stats->count() == top);
  stats->merge(of({98.0, 102.0}));
  CHECK(stats->count() == top);
  CHECK(stats->min() == 98.0);
  CHECK(stats->max() == 102.0);
  CHECK(running_stats::from_raw(stats->raw()).has_value());  // a checkpoint of it restores
}

} // namespace running_stats_raw_test
