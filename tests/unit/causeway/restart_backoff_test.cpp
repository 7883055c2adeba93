#include "causeway/restart_backoff.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using causeway::restart_backoff;

TEST_CASE("restarts back off while runs keep failing soon after their start") {
  restart_backoff backoff;
  auto now = restart_backoff::clock::time_point{} + 1h;
  const std::chrono::milliseconds expected[] = {0ms, 100ms, 200ms, 400ms, 800ms, 1600ms, 3200ms, 6400ms, 10000ms, 10000ms};
  for (auto want : expected) {
    backoff.started(now);
    now += 1s;  // each run fails a second after it started
    CHECK(backoff.failed(now) == want);
    now += want;
  }
  CHECK(backoff.failures_in_a_row() == 10);
}

TEST_CASE("a run that lasted healthy_after restarts at once and starts the series over") {
  restart_backoff backoff{{50ms, 1000ms, 5s}};
  auto now = restart_backoff::clock::time_point{} + 1h;
  backoff.started(now);
  CHECK(backoff.failed(now + 1ms) == 0ms);
  backoff.started(now);
  CHECK(backoff.failed(now + 1ms) == 50ms);
  backoff.started(now);
  CHECK(backoff.failed(now + 1ms) == 100ms);
  backoff.started(now);
  CHECK(backoff.failed(now + 5s) == 0ms);  // ran exactly healthy_after: healthy
  CHECK(backoff.failures_in_a_row() == 1);
  backoff.started(now);
  CHECK(backoff.failed(now + 4999ms) == 50ms);
}
