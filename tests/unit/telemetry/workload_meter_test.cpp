// Workload (busy / wall time per interval) from known busy totals and wall times, and from
// node_metrics on a fake clock.
#include "telluride/telemetry/node_metrics.hpp"
#include "telluride/telemetry/workload_meter.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace telluride;
using namespace std::chrono_literals;
using us = workload_meter::microseconds;

TEST_CASE("workload is the interval's busy time over its wall time") {
  workload_meter m;
  CHECK(m.last() == 0.0);
  CHECK(m.close(us{250'000}, us{1'000'000}) == doctest::Approx(0.25));
  // The busy total is cumulative: 250 ms more in the next second.
  CHECK(m.close(us{500'000}, us{1'000'000}) == doctest::Approx(0.25));
  CHECK(m.close(us{500'000}, us{1'000'000}) == 0.0);     // idle
  CHECK(m.close(us{1'500'000}, us{1'000'000}) == 1.0);   // busy the whole second
  CHECK(m.close(us{1'600'000}, us{500'000}) == doctest::Approx(0.2));
  CHECK(m.last() == doctest::Approx(0.2));
}

TEST_CASE("a call longer than its interval reads 1 and carries the rest into the next intervals") {
  workload_meter m;
  // A 2.5 s call ends in the first interval of 1 s.
  CHECK(m.close(us{2'500'000}, us{1'000'000}) == 1.0);
  CHECK(m.close(us{2'500'000}, us{1'000'000}) == 1.0);
  CHECK(m.close(us{2'500'000}, us{1'000'000}) == doctest::Approx(0.5));
  CHECK(m.close(us{2'500'000}, us{1'000'000}) == 0.0);
}

TEST_CASE("an interval of no wall time carries its busy time and keeps the last workload") {
  workload_meter m;
  CHECK(m.close(us{100'000}, us{1'000'000}) == doctest::Approx(0.1));
  CHECK(m.close(us{400'000}, us{0}) == doctest::Approx(0.1));
  CHECK(m.close(us{400'000}, us{1'000'000}) == doctest::Approx(0.3));
}

TEST_CASE("every workload stays within 0 and 1 whatever the busy totals") {
  workload_meter m;
  double busy = 0;
  for (int i = 0; i < 200; ++i) {
    busy += (i * 7919 % 3001) * 1000.0;  // 0 .. 3 s of calls ending in each 1 s interval
    auto w = m.close(us{busy}, us{1'000'000});
    CHECK(w >= 0.0);
    CHECK(w <= 1.0);
  }
}

namespace {

causeway::telemetry_event call(causeway::stage_kind kind, std::size_t index, std::chrono::microseconds took) {
  return {kind, "default", index, causeway::telemetry_phase::stop, 10,
          std::chrono::duration_cast<std::chrono::nanoseconds>(took), std::chrono::system_clock::time_point{}};
}

double workload_of(const node_metrics& metrics, std::size_t index) {
  for (const auto& m : metrics.snapshot())
    if (m.partition == index)
      return m.workload;
  FAIL("no instance ", index);
  return -1;
}

} // namespace

TEST_CASE("node_metrics gives each instance its workload of the interval closed, on its own clock") {
  const auto t0 = std::chrono::steady_clock::time_point{} + 100s;
  node_metrics metrics{t0};
  using causeway::stage_kind;
  metrics.on_event(call(stage_kind::processor, 0, 200ms));
  metrics.on_event(call(stage_kind::processor, 0, 100ms));
  metrics.on_event(call(stage_kind::processor, 1, 900ms));
  metrics.close_interval(t0 + 1s);
  CHECK(workload_of(metrics, 0) == doctest::Approx(0.3));
  CHECK(workload_of(metrics, 1) == doctest::Approx(0.9));

  // Next interval: 2 s long; instance 1 idle, instance 0 busy 500 ms, a new instance 2 busy 1 s.
  metrics.on_event(call(stage_kind::processor, 0, 500ms));
  metrics.on_event(call(stage_kind::processor, 2, 1s));
  metrics.close_interval(t0 + 3s);
  CHECK(workload_of(metrics, 0) == doctest::Approx(0.25));
  CHECK(workload_of(metrics, 1) == 0.0);
  CHECK(workload_of(metrics, 2) == doctest::Approx(0.5));
  for (const auto& m : metrics.snapshot()) {
    CHECK(m.workload >= 0.0);
    CHECK(m.workload <= 1.0);
  }
  auto all = metrics.snapshot();
  REQUIRE(all.size() == 3);
  CHECK(all[0].busy_us == doctest::Approx(800'000.0));
}
