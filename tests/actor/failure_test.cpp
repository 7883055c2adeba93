#include <doctest/doctest.h>

#include "pipeline_fixture.hpp"

#include <algorithm>
#include <set>

using namespace causeway;
using namespace causeway::test;

TEST_CASE_FIXTURE(pipeline_fixture, "a failed message skips the batchers and arrives failed at handle_failed and the acknowledger") {
  handler->on_message = [](message& m, const context&) {
    if (std::stoi(m.data) % 10 == 0)
      m.fail("multiple of ten");
  };
  pipeline_options o;
  o.batchers = {batcher("one", 5, 600s)};
  auto p = start(o);
  feed->push_data(numbered(100));
  p.drain();
  REQUIRE(acks->count() == 100);
  CHECK(acks->failed_count() == 10);
  for (const auto& data : handler->batch_data)
    for (const auto& d : data)
      CHECK(std::stoi(d) % 10 != 0);
  std::set<std::string> failed_seen(handler->failed_seen.begin(), handler->failed_seen.end());
  CHECK(failed_seen.size() == 10);
  for (const auto& r : acks->records()) {
    bool tenth = std::stoi(r.data) % 10 == 0;
    CHECK(r.ok == !tenth);
    if (tenth) {
      CHECK(r.reason == "multiple of ten");
      CHECK(failed_seen.count(r.data) == 1);
    }
  }
}

TEST_CASE_FIXTURE(pipeline_fixture, "an exception in handle_message fails that message only") {
  handler->on_message = [](message& m, const context&) {
    if (m.data == "13")
      throw std::runtime_error("unlucky");
  };
  auto p = start(pipeline_options{});
  feed->push_data(numbered(50));
  REQUIRE(acks->wait_for(50, 5s));
  CHECK(acks->failed_count() == 1);
  for (const auto& r : acks->records())
    if (!r.ok) {
      CHECK(r.data == "13");
      CHECK(r.reason == "handle_message threw: unlucky");
    }
}

TEST_CASE_FIXTURE(pipeline_fixture, "an exception in handle_batch fails the whole batch and the stage lives on") {
  std::atomic<int> calls{0};
  handler->on_batch = [&calls](std::span<message>, const batch_info&, const context&) {
    if (calls++ == 0)
      throw std::runtime_error("database down");
  };
  pipeline_options o;
  o.processors.concurrency = 1;
  o.batchers = {batcher("one", 10, 600s)};
  auto p = start(o);
  feed->push_data(numbered(10));
  REQUIRE(acks->wait_for(10, 5s));
  feed->push_data(numbered(10, 10));
  REQUIRE(acks->wait_for(20, 5s));
  CHECK(acks->failed_count() == 10);
  for (const auto& r : acks->records()) {
    auto first_batch = std::stoi(r.data) < 10;
    CHECK(r.ok == !first_batch);
    if (first_batch)
      CHECK(r.reason == "handle_batch threw: database down");
  }
  CHECK(handler->failed_seen.size() == 10);
}

TEST_CASE_FIXTURE(pipeline_fixture, "a message routed to an unknown batcher, by name or by position, fails with a reason") {
  handler->on_message = [](message& m, const context&) {
    if (m.data == "3")
      m.put_batcher("nope");
    if (m.data == "4")
      m.put_batcher(batcher_at{1});
  };
  pipeline_options o;
  o.batchers = {batcher("default", 10, 600s)};
  auto p = start(o);
  feed->push_data(numbered(5));
  p.drain();
  REQUIRE(acks->count() == 5);
  CHECK(acks->failed_count() == 2);
  for (const auto& r : acks->records())
    if (!r.ok)
      CHECK(r.reason == (r.data == "3" ? "unknown batcher \"nope\"" : "no batcher at position 1 (the pipeline has 1)"));
}

TEST_CASE_FIXTURE(pipeline_fixture, "ack_immediately acknowledges before the batch and only once") {
  std::atomic<std::size_t> acked_before_batch{0};
  handler->on_message = [](message& m, const context&) { m.ack_immediately(); };
  handler->on_batch = [this, &acked_before_batch](std::span<message>, const batch_info&, const context&) {
    acked_before_batch = acks->count();
  };
  pipeline_options o;
  o.processors.concurrency = 1;
  o.batchers = {batcher("default", 4, 600s)};
  auto p = start(o);
  feed->push_data(numbered(4));
  p.drain();
  CHECK(acked_before_batch == 4);
  CHECK(acks->count() == 4);
}

TEST_CASE("invalid options are refused with the key named") {
  runtime_config cfg{1};
  caf::actor_system system{cfg};
  pipeline_spec spec;
  spec.handler = std::make_shared<scripted_handler>();
  spec.make_producer = in_memory_feed::make(std::make_shared<testing::recording_acknowledger>())->factory();
  spec.options.batchers = {batcher("one", 0)};
  auto p = pipeline::start(system, spec);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.err().message == "batchers.one.batch_size must be in 1..100000, got 0");
}
