#include <doctest/doctest.h>

#include "telluride/telemetry/throughput.hpp"

using namespace telluride;

TEST_CASE("throughput totals count successful and failed messages with first and last times") {
  throughput t;
  CHECK(t.peek().total_message_count == 0);
  CHECK(t.peek().earliest_raw_time == 0);
  t.record(90, 10, 1000);
  t.record(5, 0, 3000);
  t.record(0, 0, 9000);  // nothing finished: times unchanged
  auto s = t.peek();
  CHECK(s.total_successful_count == 95);
  CHECK(s.total_failed_count == 10);
  CHECK(s.total_message_count == 105);
  CHECK(s.earliest_raw_time == 1000);
  CHECK(s.last_raw_time == 3000);
}

TEST_CASE("messages_per_second is the rate since the previous sample") {
  throughput t;
  t.record(100, 0, 1000);
  auto first = t.sample(1000);
  CHECK(first.messages_per_second == 0);
  t.record(500, 0, 1200);
  auto second = t.sample(1500);
  CHECK(second.messages_per_second == doctest::Approx(1000.0));  // 500 in 0.5 s
  auto third = t.sample(2500);
  CHECK(third.messages_per_second == 0);
  CHECK(third.total_message_count == 600);
}

TEST_CASE("taking back counted messages lowers the totals, never below zero, and no rate goes negative") {
  throughput t;
  t.record(100, 7, 1000);
  t.sample(1000);
  t.take_back(30, 2);
  auto s = t.sample(2000);
  CHECK(s.total_successful_count == 70);
  CHECK(s.total_failed_count == 5);
  CHECK(s.messages_per_second == 0);
  t.take_back(500, 500);
  CHECK(t.peek().total_successful_count == 0);
  CHECK(t.peek().total_failed_count == 0);
  t.record(10, 0, 3000);
  CHECK(t.sample(3000).messages_per_second == 0);  // from 0 after 75 were taken back: not a rate
  t.record(10, 0, 3500);
  CHECK(t.sample(4000).messages_per_second == doctest::Approx(10.0));
}

TEST_CASE("a throughput sample serialises with the contract's keys") {
  throughput_sample s{1, 2, 3, 4, 5, 6.5};
  auto j = to_json(s);
  CHECK(j == nlohmann::json{{"earliest_raw_time", 1}, {"last_raw_time", 2}, {"total_message_count", 3},
                            {"total_successful_count", 4}, {"total_failed_count", 5},
                            {"messages_per_second", 6.5}});
}
