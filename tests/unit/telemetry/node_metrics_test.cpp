#include <doctest/doctest.h>

#include "telluride/telemetry/node_metrics.hpp"

#include <chrono>

using namespace telluride;
using causeway::stage_kind;
using causeway::telemetry_event;
using causeway::telemetry_phase;

namespace {

telemetry_event stop(stage_kind kind, const char* name, std::size_t index, std::size_t messages,
                     std::chrono::microseconds duration, std::int64_t epoch_ms) {
  return {kind, name, index, telemetry_phase::stop, messages,
          std::chrono::duration_cast<std::chrono::nanoseconds>(duration),
          std::chrono::system_clock::time_point{std::chrono::milliseconds(epoch_ms)}};
}

} // namespace

TEST_CASE("a node accumulates calls, messages and durations in microseconds") {
  node_metrics metrics;
  metrics.on_event(stop(stage_kind::processor, "default", 1, 10, std::chrono::microseconds(3), 1000));
  metrics.on_event(stop(stage_kind::processor, "default", 1, 5, std::chrono::microseconds(9), 1500));
  metrics.on_event(stop(stage_kind::processor, "default", 1, 1, std::chrono::microseconds(6), 2000));
  auto changed = metrics.take_changed();
  REQUIRE(changed.size() == 1);
  const auto& m = changed[0];
  CHECK(m.kind == stage_kind::processor);
  CHECK(m.name == "default");
  CHECK(m.partition == 1);
  CHECK(m.call_count == 3);
  CHECK(m.msg_count == 16);
  CHECK(m.last_duration == doctest::Approx(6.0));
  CHECK(m.min_duration == doctest::Approx(3.0));
  CHECK(m.max_duration == doctest::Approx(9.0));
  CHECK(m.mean_duration == doctest::Approx(6.0));
  CHECK(m.sma_duration == doctest::Approx(6.0));
  CHECK(m.first_time == 1000);
  CHECK(m.last_time == 2000);
}

TEST_CASE("start events are not calls") {
  node_metrics metrics;
  auto e = stop(stage_kind::batcher, "one", 0, 3, std::chrono::microseconds(0), 5);
  e.phase = telemetry_phase::start;
  metrics.on_event(e);
  CHECK(metrics.take_changed().empty());
  CHECK(metrics.snapshot().empty());
}

TEST_CASE("only nodes that did work since the last take are returned") {
  node_metrics metrics;
  metrics.on_event(stop(stage_kind::processor, "default", 0, 1, std::chrono::microseconds(1), 1));
  metrics.on_event(stop(stage_kind::batch_processor, "one", 0, 1, std::chrono::microseconds(1), 1));
  CHECK(metrics.take_changed().size() == 2);
  CHECK(metrics.take_changed().empty());
  metrics.on_event(stop(stage_kind::batch_processor, "one", 0, 1, std::chrono::microseconds(1), 2));
  auto changed = metrics.take_changed();
  REQUIRE(changed.size() == 1);
  CHECK(changed[0].kind == stage_kind::batch_processor);
  CHECK(changed[0].call_count == 2);  // cumulative
  CHECK(metrics.snapshot().size() == 2);
}

TEST_CASE("the simple moving average covers the last 60 calls") {
  node_accumulator acc;
  for (int i = 0; i < 60; ++i)
    acc.add(1, 100.0, i);
  for (int i = 0; i < 30; ++i)
    acc.add(1, 10.0, 60 + i);
  // The window holds 30 × 100 and 30 × 10.
  CHECK(acc.metric().sma_duration == doctest::Approx(55.0));
  CHECK(acc.metric().mean_duration == doctest::Approx((60 * 100.0 + 30 * 10.0) / 90));
  CHECK(acc.metric().call_count == 90);
}

TEST_CASE("a node metric serialises with the contract's keys") {
  node_metric m;
  m.kind = stage_kind::batch_processor;
  m.name = "sensor_batcher_one";
  m.partition = 2;
  m.call_count = 10;
  m.msg_count = 1000;
  m.first_time = 1763800000123;
  auto j = to_json(m);
  CHECK(j["node_type"] == "batch_processor");
  CHECK(j["name"] == "sensor_batcher_one");
  CHECK(j["partition"] == 2);
  CHECK(j["call_count"] == 10);
  CHECK(j["msg_count"] == 1000);
  CHECK(j["first_time"] == 1763800000123);
  for (auto key : {"last_duration", "min_duration", "max_duration", "mean_duration", "sma_duration", "last_time"})
    CHECK(j.contains(key));
  CHECK(j.size() == 12);
}
