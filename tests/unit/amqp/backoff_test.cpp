#include "causeway/amqp/backoff.hpp"

#include <doctest/doctest.h>

#include <random>

using causeway::amqp::backoff;
using causeway::amqp::backoff_options;
using std::chrono::milliseconds;

TEST_CASE("the first retry already waits: 75..100 ms with the defaults") {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) {
    backoff b;
    auto d = b.next(rng);
    CHECK(d >= milliseconds{75});
    CHECK(d <= milliseconds{100});
  }
}

TEST_CASE("delays double up to the ceiling and stay within their jitter band") {
  std::mt19937_64 rng(42);
  backoff b;
  double base = 100;
  for (int attempt = 0; attempt < 40; ++attempt) {
    double ceiling = std::min(base, 30000.0);
    auto d = b.next(rng);
    CAPTURE(attempt);
    CHECK(d.count() >= static_cast<long>(ceiling * 0.75) - 1);
    CHECK(d.count() <= static_cast<long>(ceiling) + 1);
    base *= 2;
  }
  CHECK(b.attempts() == 40);
}

TEST_CASE("reset starts over at the initial delay") {
  std::mt19937_64 rng(7);
  backoff b;
  for (int i = 0; i < 10; ++i)
    b.next(rng);
  b.reset();
  CHECK(b.attempts() == 0);
  CHECK(b.next(rng) <= milliseconds{100});
}

TEST_CASE("zero jitter gives the exact exponential sequence") {
  std::mt19937_64 rng(3);
  backoff b(backoff_options{milliseconds{10}, milliseconds{100}, 3.0, 0.0});
  CHECK(b.next(rng) == milliseconds{10});
  CHECK(b.next(rng) == milliseconds{30});
  CHECK(b.next(rng) == milliseconds{90});
  CHECK(b.next(rng) == milliseconds{100});
  CHECK(b.next(rng) == milliseconds{100});
}

TEST_CASE("jitter spreads simultaneous clients apart") {
  std::mt19937_64 rng(5);
  backoff a, b;
  int different = 0;
  for (int i = 0; i < 10; ++i)
    different += a.next(rng) != b.next(rng) ? 1 : 0;
  CHECK(different >= 8);
}
