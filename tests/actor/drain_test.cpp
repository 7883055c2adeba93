#include <doctest/doctest.h>

#include "pipeline_fixture.hpp"

#include <algorithm>
#include <random>
#include <thread>

using namespace causeway;
using namespace causeway::test;

TEST_CASE_FIXTURE(pipeline_fixture, "draining 100,000 messages with random batch sizes acknowledges each exactly once") {
  std::mt19937 rng{20261122};
  std::uniform_int_distribution<std::size_t> size{1, 500};
  handler->on_message = [](message& m, const context&) {
    m.put_batcher(m.data.back() % 2 == 0 ? "one" : "two");
  };
  pipeline_options o;
  o.producer.concurrency = 2;
  o.processors.concurrency = 3;
  o.batchers = {batcher("one", size(rng), 5ms, 2), batcher("two", size(rng), 5ms, 3)};
  auto p = start(o);
  constexpr std::size_t total = 100'000;
  std::size_t pushed = 0;
  while (pushed < total) {
    auto n = std::min(size(rng), total - pushed);
    feed->push_data(numbered(n, pushed));
    pushed += n;
  }
  auto report = p.drain();
  CHECK_FALSE(report.timed_out);
  REQUIRE(acks->count() == total);
  CHECK(acks->failed_count() == 0);
  auto times = acks->times_acknowledged(total);
  CHECK(times[0] == 0);
  CHECK(std::count(times.begin() + 1, times.end(), 1u) == static_cast<long>(total));
  CHECK(feed->unacknowledged() == 0);
  CHECK(p.topology().empty());
}

TEST_CASE_FIXTURE(pipeline_fixture, "a drained pipeline restarts with new options and keeps no message twice") {
  pipeline_options o;
  o.batchers = {batcher("one", 10, 5ms)};
  auto p = start(o);
  feed->push_data(numbered(500));
  p.drain();
  CHECK(acks->count() == 500);

  // Pushed while drained: held by the feed until the next topology runs.
  feed->push_data(numbered(300, 500));
  o.processors.concurrency = 4;
  o.batchers = {batcher("one", 7, 5ms, 3)};
  auto restarted = p.restart(o);
  REQUIRE(restarted.has_value());
  CHECK(restarted->messages == 0);  // it was not running
  auto stages = p.topology();
  CHECK(std::count_if(stages.begin(), stages.end(),
                      [](const stage_info& s) { return s.kind == stage_kind::processor; }) == 4);
  CHECK(std::count_if(stages.begin(), stages.end(),
                      [](const stage_info& s) { return s.kind == stage_kind::batch_processor; }) == 3);
  REQUIRE(acks->wait_for(800, 5s));
  auto times = acks->times_acknowledged(800);
  CHECK(std::count(times.begin() + 1, times.end(), 1u) == 800);
}

TEST_CASE_FIXTURE(pipeline_fixture, "restart while running drains first and reports the drain") {
  handler->on_message = [](message&, const context&) {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  };
  pipeline_options o;
  o.batchers = {batcher("one", 50, 600s)};
  auto p = start(o);
  feed->push_data(numbered(2000));
  o.processors.concurrency = 3;
  auto restarted = p.restart(o);
  REQUIRE(restarted.has_value());
  feed->push_data(numbered(1000, 2000));
  p.drain();
  REQUIRE(acks->count() == 3000);
  auto times = acks->times_acknowledged(3000);
  CHECK(std::count(times.begin() + 1, times.end(), 1u) == 3000);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a restart frees every stage of the generation it replaced") {
  pipeline_options o;
  o.batchers = {batcher("one", 10, 5ms, 2)};
  auto p = start(o);
  REQUIRE(testing::test_message(*feed, *acks, "first generation").has_value());
  std::vector<caf::actor_addr> replaced;  // weak: they do not keep the stages alive
  for (const auto& stage : p.topology())
    replaced.push_back(stage.actor.address());
  REQUIRE(replaced.size() == 6);  // producer, 2 processors, batcher, 2 batch processors

  REQUIRE(p.restart(o).has_value());
  auto freed = [&replaced] {
    return std::all_of(replaced.begin(), replaced.end(), [](const caf::actor_addr& a) {
      return !caf::actor_cast<caf::actor>(a);
    });
  };
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!freed() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  CHECK(freed());
  auto ok = testing::test_message(*feed, *acks, "second generation");
  REQUIRE(ok.has_value());
  CHECK(ok->ok);
}

TEST_CASE_FIXTURE(pipeline_fixture, "invalid restart options change nothing") {
  pipeline_options o;
  auto p = start(o);
  auto bad = o;
  bad.processors.concurrency = 0;
  auto r = p.restart(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.err().message == "processors.concurrency must be in 1..1024, got 0");
  auto stages = p.topology();
  CHECK(std::count_if(stages.begin(), stages.end(),
                      [](const stage_info& s) { return s.kind == stage_kind::processor; }) == 2);
  auto ok = testing::test_message(*feed, *acks, "still running");
  REQUIRE(ok.has_value());
  CHECK(ok->ok);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a drain that exceeds the shutdown timeout fails the rest back") {
  std::atomic<bool> release{false};
  handler->on_batch = [&release](std::span<message>, const batch_info&, const context&) {
    while (!release)
      std::this_thread::sleep_for(1ms);
  };
  pipeline_options o;
  o.shutdown_timeout = 200ms;
  o.batchers = {batcher("one", 10, 600s)};
  auto p = start(o);
  feed->push_data(numbered(30));
  std::thread releaser{[&release] {
    std::this_thread::sleep_for(1s);
    release = true;
  }};
  auto report = p.drain();
  releaser.join();
  CHECK(report.timed_out);
  REQUIRE(acks->wait_for(30, 5s));
  std::this_thread::sleep_for(100ms);  // a stage being killed must not add acks
  CHECK(acks->count() == 30);
  auto times = acks->times_acknowledged(30);
  CHECK(std::count(times.begin() + 1, times.end(), 1u) == 30);
  CHECK(acks->failed_count() > 0);
}
