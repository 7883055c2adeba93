// The buckets of the stage duration histogram, at their bounds.
#include "telluride/telemetry/duration_histogram.hpp"
#include "telluride/telemetry/node_metrics.hpp"

#include <doctest/doctest.h>

using namespace telluride;

TEST_CASE("a duration lands in the first bucket whose bound it does not exceed") {
  duration_histogram h;
  h.add(0);           // le 10 µs
  h.add(10);          // le 10 µs: bounds are inclusive
  h.add(10.5);        // le 50 µs
  h.add(1'000);       // le 1 ms
  h.add(5'000'000);   // le 5 s
  h.add(5'000'001);   // +Inf
  CHECK(h.count_in(0) == 2);
  CHECK(h.count_in(1) == 1);
  CHECK(h.count_in(4) == 1);
  CHECK(h.count_in(11) == 1);
  CHECK(h.count_in(12) == 1);
  CHECK(h.cumulative(0) == 2);
  CHECK(h.cumulative(3) == 3);
  CHECK(h.cumulative(4) == 4);
  CHECK(h.cumulative(11) == 5);
  CHECK(h.total() == 6);
}

TEST_CASE("node_metrics counts every call's duration in its instance's histogram") {
  node_metrics metrics;
  auto stop = [](std::chrono::microseconds took) {
    return causeway::telemetry_event{causeway::stage_kind::batch_processor, "one", 0,
                                     causeway::telemetry_phase::stop, 100,
                                     std::chrono::duration_cast<std::chrono::nanoseconds>(took),
                                     std::chrono::system_clock::time_point{}};
  };
  metrics.on_event(stop(std::chrono::microseconds(40)));
  metrics.on_event(stop(std::chrono::microseconds(700)));
  metrics.on_event(stop(std::chrono::microseconds(700)));
  auto all = metrics.snapshot();
  REQUIRE(all.size() == 1);
  CHECK(all[0].durations.count_in(1) == 1);  // le 50 µs
  CHECK(all[0].durations.count_in(4) == 2);  // le 1 ms
  CHECK(all[0].durations.total() == 3);
  CHECK(all[0].busy_us == doctest::Approx(1'440.0));
}
