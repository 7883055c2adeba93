#include <doctest/doctest.h>

#include "pipeline_fixture.hpp"

#include <chrono>
#include <map>
#include <thread>

using namespace causeway;
using namespace causeway::test;

TEST_CASE_FIXTURE(pipeline_fixture, "full batches are emitted by size with exact batch info") {
  pipeline_options o;
  o.processors.concurrency = 1;
  o.batchers = {batcher("one", 10, 60s)};
  auto p = start(o);
  feed->push_data(numbered(30));
  REQUIRE(acks->wait_for(30, 5s));
  auto infos = handler->batch_infos();
  REQUIRE(infos.size() == 3);
  for (const auto& info : infos) {
    CHECK(info.batcher == "one");
    CHECK(info.batch_key == "");
    CHECK(info.size == 10);
    CHECK(info.trigger == batch_trigger::size);
  }
  CHECK(acks->failed_count() == 0);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a partial batch is emitted when its timeout expires") {
  pipeline_options o;
  o.batchers = {batcher("one", 100, 50ms)};
  auto p = start(o);
  auto started = std::chrono::steady_clock::now();
  feed->push_data(numbered(7));
  REQUIRE(acks->wait_for(7, 5s));
  auto elapsed = std::chrono::steady_clock::now() - started;
  auto infos = handler->batch_infos();
  REQUIRE(infos.size() == 1);
  CHECK(infos[0].size == 7);
  CHECK(infos[0].trigger == batch_trigger::timeout);
  CHECK(elapsed >= 50ms);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a batch that leaves by size takes its timeout along: the next open batch leaves on its own") {
  // The batcher's one timer is for its oldest open batch; when that batch leaves by size the
  // timer moves to the next one (detail/timer_service.hpp). The next batch must leave neither
  // at the first batch's deadline nor never.
  pipeline_options o;
  o.batchers = {batcher("one", 10, 200ms)};
  auto p = start(o);
  feed->push_data(numbered(10));
  REQUIRE(acks->wait_for(10, 5s));
  std::this_thread::sleep_for(100ms);
  auto second = std::chrono::steady_clock::now();
  feed->push_data(numbered(5));
  REQUIRE(acks->wait_for(15, 5s));
  auto elapsed = std::chrono::steady_clock::now() - second;
  auto infos = handler->batch_infos();
  REQUIRE(infos.size() == 2);
  CHECK(infos[0].size == 10);
  CHECK(infos[0].trigger == batch_trigger::size);
  CHECK(infos[1].size == 5);
  CHECK(infos[1].trigger == batch_trigger::timeout);
  CHECK(elapsed >= 200ms);
}

TEST_CASE_FIXTURE(pipeline_fixture, "draining flushes open batches") {
  pipeline_options o;
  o.batchers = {batcher("one", 100, 600s)};
  auto p = start(o);
  feed->push_data(numbered(42));
  auto report = p.drain();
  CHECK(acks->count() == 42);
  CHECK(report.messages == 42);
  CHECK_FALSE(report.timed_out);
  auto infos = handler->batch_infos();
  REQUIRE(infos.size() == 1);
  CHECK(infos[0].size == 42);
  CHECK(infos[0].trigger == batch_trigger::flush);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a stalled producer cuts the open batches once every processor passed the stall on") {
  // Two processors share the messages: the batch is cut only after both sent theirs, so it is one
  // batch of all 42, long before its timeout.
  pipeline_options o;
  o.processors.concurrency = 2;
  o.batchers = {batcher("one", 100, 600s)};
  auto p = start(o);
  feed->push_data(numbered(42));
  feed->stall();
  REQUIRE(acks->wait_for(42, 5s));
  auto infos = handler->batch_infos();
  REQUIRE(infos.size() == 1);
  CHECK(infos[0].size == 42);
  CHECK(infos[0].trigger == batch_trigger::stalled);
  CHECK(acks->failed_count() == 0);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a stall cuts only what full batches left open, per batch key, and later batches fill by size again") {
  pipeline_options o;
  o.processors.concurrency = 2;
  o.batchers = {batcher("one", 10, 600s)};
  auto p = start(o);
  std::vector<message> messages;
  for (int i = 0; i < 25; ++i) {
    message m{std::to_string(i)};
    m.put_batch_key(i % 5 == 0 ? "fifth" : "rest");  // 5 of one key, 20 of the other
    messages.push_back(std::move(m));
  }
  feed->push(std::move(messages));
  feed->stall();
  REQUIRE(acks->wait_for(25, 5s));
  auto infos = handler->batch_infos();
  REQUIRE(infos.size() == 3);
  std::map<std::pair<std::string, batch_trigger>, std::size_t> sizes;
  for (const auto& info : infos)
    sizes[{info.batch_key, info.trigger}] += info.size;
  CHECK(sizes[{"rest", batch_trigger::size}] == 20);
  CHECK(sizes[{"fifth", batch_trigger::stalled}] == 5);
  // A stall with nothing open cuts nothing; what comes next is batched by size.
  feed->stall();
  feed->push_data(numbered(20));
  REQUIRE(acks->wait_for(45, 5s));
  infos = handler->batch_infos();
  REQUIRE(infos.size() == 5);
  CHECK(infos[3].trigger == batch_trigger::size);
  CHECK(infos[4].trigger == batch_trigger::size);
  CHECK(acks->failed_count() == 0);
}

TEST_CASE_FIXTURE(pipeline_fixture, "messages are batched per batcher and per batch key") {
  bool by_position = false;
  SUBCASE("routed by name") {}
  SUBCASE("routed by position") { by_position = true; }
  handler->on_message = [by_position](message& m, const context&) {
    auto n = std::stoi(m.data);
    if (by_position)
      m.put_batcher(batcher_at{static_cast<std::uint32_t>(n % 2)});  // "even" is declared first
    else
      m.put_batcher(n % 2 == 0 ? "even" : "odd");
    m.put_batch_key(n % 3 == 0 ? "three" : "other");
  };
  pipeline_options o;
  o.batchers = {batcher("even", 1000, 600s), batcher("odd", 1000, 600s)};
  auto p = start(o);
  feed->push_data(numbered(60));
  p.drain();
  std::map<std::pair<std::string, std::string>, std::size_t> sizes;
  for (std::size_t i = 0; i < handler->batches.size(); ++i) {
    const auto& info = handler->batches[i];
    sizes[{info.batcher, info.batch_key}] += info.size;
    for (const auto& d : handler->batch_data[i]) {
      auto n = std::stoi(d);
      CHECK(info.batcher == (n % 2 == 0 ? "even" : "odd"));
      CHECK(info.batch_key == (n % 3 == 0 ? "three" : "other"));
    }
  }
  CHECK(sizes[{"even", "three"}] == 10);  // 0, 6, ..., 54
  CHECK(sizes[{"even", "other"}] == 20);
  CHECK(sizes[{"odd", "three"}] == 10);   // 3, 9, ..., 57
  CHECK(sizes[{"odd", "other"}] == 20);
  CHECK(acks->count() == 60);
}

TEST_CASE_FIXTURE(pipeline_fixture, "without batchers messages are acknowledged after handle_message") {
  std::atomic<int> handled{0};
  handler->on_message = [&handled](message&, const context&) { ++handled; };
  auto p = start(pipeline_options{});
  feed->push_data(numbered(1000));
  REQUIRE(acks->wait_for(1000, 5s));
  CHECK(handled == 1000);
  CHECK(handler->batch_infos().empty());
  CHECK(acks->failed_count() == 0);
}

TEST_CASE_FIXTURE(pipeline_fixture, "test_message pushes one message and returns its acknowledgement") {
  handler->on_message = [](message& m, const context&) {
    if (m.data == "bad")
      m.fail("bad input");
  };
  auto p = start(pipeline_options{});
  auto good = testing::test_message(*feed, *acks, "good");
  REQUIRE(good.has_value());
  CHECK(good->ok);
  CHECK(good->data == "good");
  auto bad = testing::test_message(*feed, *acks, "bad");
  REQUIRE(bad.has_value());
  CHECK_FALSE(bad->ok);
  CHECK(bad->reason == "bad input");
}
