#include <doctest/doctest.h>

#include "pipeline_fixture.hpp"

#include <algorithm>

using namespace causeway;
using namespace causeway::test;

TEST_CASE_FIXTURE(pipeline_fixture, "stages past the producer hold no more than the demand bound") {
  std::atomic<std::size_t> max_seen{0};
  std::atomic<std::size_t> finished{0};
  handler->on_batch = [&finished](std::span<message> batch, const batch_info&, const context&) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    finished += batch.size();
  };
  pipeline_options o;
  o.processors.concurrency = 2;
  o.processors.max_demand = 20;
  o.processors.min_demand = 10;
  o.batchers = {batcher("one", 10, 5ms, 2)};
  auto bound = in_flight_bound(o);
  CHECK(bound == 2 * 1 * 20 + 2 * (2 * 10 * 2) + 2 * 2 * 10);
  auto p = start(o);
  constexpr std::size_t total = 5'000;
  feed->push_data(numbered(total));
  // What the feed handed out and is not acknowledged, minus what the producer stage buffers,
  // is inside the stages past the producer. Sample from the first acknowledgement on, when
  // the producer stage has counted its buffer.
  REQUIRE(acks->wait_for(1, 5s));
  while (acks->count() < total) {
    auto stages = p.topology();
    std::size_t buffered = 0;
    for (const auto& s : stages)
      if (s.kind == stage_kind::producer)
        buffered += s.in_flight;
    auto handed_out = feed->unacknowledged();
    auto past_producer = handed_out > buffered ? handed_out - buffered : 0;
    max_seen = std::max(max_seen.load(), past_producer);
    std::this_thread::sleep_for(200us);
  }
  CHECK(max_seen.load() > 0);
  CHECK(max_seen.load() <= bound);
}

TEST_CASE_FIXTURE(pipeline_fixture, "the rate limit holds over one second") {
  pipeline_options o;
  o.producer.rate_limit = {100, 200ms};
  auto p = start(o);
  feed->push_data(numbered(5000));
  std::this_thread::sleep_for(1050ms);
  auto done = acks->count();
  // Windows opened at 0, 200, 400, 600, 800, 1000 ms: at most 6 × 100.
  CHECK(done >= 500);
  CHECK(done <= 600);
  p.set_rate_limit({0, 1000ms});
  REQUIRE(acks->wait_for(5000, 5s));
}

TEST_CASE_FIXTURE(pipeline_fixture, "a rate-limited stream is delivered to its last message without new input") {
  // Permits run out with messages and demand left, and nothing else arrives: the stage must
  // send the rest when the window turns, by itself.
  bool partitioned = false;
  SUBCASE("one queue for every processor") {}
  SUBCASE("a queue per processor (partition_by)") { partitioned = true; }
  pipeline_options o;
  o.producer.rate_limit = {150, 20ms};
  o.processors.concurrency = 2;
  if (partitioned)
    o.processors.partition_by = [](const message& m) { return static_cast<std::uint64_t>(std::stoi(m.data)); };
  o.batchers = {batcher("default", 40, 5ms, 2)};
  auto p = start(o);
  feed->push_data(numbered(1000));
  CHECK(acks->wait_for(1000, 5s));
}

TEST_CASE_FIXTURE(pipeline_fixture, "introspection lists every stage with its counters") {
  pipeline_options o;
  o.producer.concurrency = 2;
  o.processors.concurrency = 3;
  o.batchers = {batcher("one", 10, 5ms, 2), batcher("two", 10, 5ms, 1)};
  handler->on_message = [](message& m, const context&) { m.put_batcher("one"); };
  auto p = start(o);
  feed->push_data(numbered(100));
  REQUIRE(acks->wait_for(100, 5s));
  auto stages = p.topology();
  REQUIRE(stages.size() == 2 + 3 + 2 + 2 + 1);
  std::map<stage_kind, std::uint64_t> received;
  for (const auto& s : stages)
    received[s.kind] += s.received;
  CHECK(received[stage_kind::producer] == 100);
  CHECK(received[stage_kind::processor] == 100);
  CHECK(received[stage_kind::batcher] == 100);
  CHECK(received[stage_kind::batch_processor] == 100);
  for (const auto& s : stages) {
    if (s.kind == stage_kind::batcher && s.name == "two")
      CHECK(s.received == 0);
    CAPTURE(s.name);
    CAPTURE(static_cast<int>(s.kind));
    CHECK(s.in_flight == 0);
  }
}
