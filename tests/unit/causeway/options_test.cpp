// Claims about pipeline options: validate names the first bad key; the demand bound is exact.
#include "causeway/options.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

using causeway::batcher_options;
using causeway::pipeline_options;
using namespace std::chrono_literals;

namespace {

batcher_options batcher(std::string name) {
  batcher_options b;
  b.name = std::move(name);
  return b;
}

// Options with one batcher "one"; each case breaks exactly one field.
pipeline_options with_one_batcher() {
  pipeline_options o;
  o.batchers.push_back(batcher("one"));
  return o;
}

} // namespace

TEST_CASE("default options are valid, with or without batchers") {
  CHECK(causeway::validate(pipeline_options{}).has_value());
  CHECK(causeway::validate(with_one_batcher()).has_value());
}

TEST_CASE("options at the edges of their ranges are valid") {
  auto o = with_one_batcher();
  o.producer.concurrency = 1024;
  o.producer.rate_limit.allowed = 1'000'000'000;
  o.producer.rate_limit.interval = 1ms;
  o.processors.concurrency = 1;
  o.processors.max_demand = 1;
  o.processors.min_demand = 0;
  o.batchers[0].batch_size = 100'000;
  o.batchers[0].batch_timeout = 86'400'000ms;
  o.batchers[0].max_demand = 1'000'000;
  o.shutdown_timeout = 1ms;
  auto result = causeway::validate(o);
  CHECK_MESSAGE(result.has_value(), (result ? "" : result.err().message));
}

TEST_CASE("validate names the bad key, what it expected and what it got") {
  struct case_ {
    std::function<void(pipeline_options&)> breaks;
    std::string error;
  };
  const std::vector<case_> cases{
    {[](auto& o) { o.name.clear(); }, "name must be a non-empty string"},
    {[](auto& o) { o.producer.concurrency = 0; },
     "producer.concurrency must be in 1..1024, got 0"},
    {[](auto& o) { o.producer.concurrency = 1025; },
     "producer.concurrency must be in 1..1024, got 1025"},
    {[](auto& o) { o.producer.rate_limit.allowed = 1'000'000'001; },
     "producer.rate_limit.allowed must be in 0..1000000000, got 1000000001"},
    {[](auto& o) { o.producer.rate_limit.interval = 0ms; },
     "producer.rate_limit.interval must be in 1..86400000 ms, got 0"},
    {[](auto& o) { o.processors.name.clear(); }, "processors.name must be a non-empty string"},
    {[](auto& o) { o.processors.concurrency = 0; },
     "processors.concurrency must be in 1..1024, got 0"},
    {[](auto& o) { o.processors.max_demand = 0; },
     "processors.max_demand must be in 1..1000000, got 0"},
    {[](auto& o) { o.processors.max_demand = 1'000'001; },
     "processors.max_demand must be in 1..1000000, got 1000001"},
    {[](auto& o) { o.processors.min_demand = 500; },
     "processors.min_demand must be less than processors.max_demand (500), got 500"},
    {[](auto& o) { o.processors.min_demand = 900; },
     "processors.min_demand must be less than processors.max_demand (500), got 900"},
    {[](auto& o) { o.batchers[0].name.clear(); }, "batchers[].name must be a non-empty string"},
    {[](auto& o) { o.batchers.push_back(batcher("one")); }, "batchers.one is defined twice"},
    {[](auto& o) { o.batchers[0].concurrency = 0; },
     "batchers.one.concurrency must be in 1..1024, got 0"},
    {[](auto& o) { o.batchers[0].batch_size = 0; },
     "batchers.one.batch_size must be in 1..100000, got 0"},
    {[](auto& o) { o.batchers[0].batch_size = 100'001; },
     "batchers.one.batch_size must be in 1..100000, got 100001"},
    {[](auto& o) { o.batchers[0].batch_timeout = 0ms; },
     "batchers.one.batch_timeout must be in 1..86400000 ms, got 0"},
    {[](auto& o) { o.batchers[0].batch_timeout = -5ms; },
     "batchers.one.batch_timeout must be in 1..86400000 ms, got -5"},
    {[](auto& o) { o.batchers[0].batch_timeout = 86'400'001ms; },
     "batchers.one.batch_timeout must be in 1..86400000 ms, got 86400001"},
    {[](auto& o) { o.batchers[0].max_demand = 1'000'001; },
     "batchers.one.max_demand must be in 0..1000000, got 1000001"},
    {[](auto& o) { o.shutdown_timeout = 0ms; },
     "shutdown_timeout must be in 1..86400000 ms, got 0"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.error);
    auto o = with_one_batcher();
    c.breaks(o);
    auto result = causeway::validate(o);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.err().message == c.error);
  }
}

TEST_CASE("the error names the batcher that is wrong, not the first one") {
  auto o = with_one_batcher();
  o.batchers.push_back(batcher("two"));
  o.batchers[1].concurrency = 0;
  auto result = causeway::validate(o);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.err().message == "batchers.two.concurrency must be in 1..1024, got 0");
}

TEST_CASE("with several bad keys the first one in declaration order is named") {
  auto o = with_one_batcher();
  o.shutdown_timeout = 0ms;
  o.batchers[0].batch_size = 0;
  o.processors.concurrency = 0;
  auto result = causeway::validate(o);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.err().message == "processors.concurrency must be in 1..1024, got 0");
}

TEST_CASE("effective_max_demand is max_demand, or two batches per batch processor when it is 0") {
  struct case_ {
    std::size_t batch_size;
    std::size_t concurrency;
    std::size_t max_demand;
    std::size_t effective;
  };
  const std::vector<case_> cases{{100, 1, 0, 200}, {100, 1, 30, 30}, {10, 4, 250, 250}, {1, 1, 0, 2}, {7, 2, 0, 28}};
  for (const auto& c : cases) {
    CAPTURE(c.batch_size);
    CAPTURE(c.concurrency);
    CAPTURE(c.max_demand);
    auto b = batcher("one");
    b.batch_size = c.batch_size;
    b.concurrency = c.concurrency;
    b.max_demand = c.max_demand;
    CHECK(causeway::effective_max_demand(b) == c.effective);
  }
}

TEST_CASE("in_flight_bound without batchers is processors x producers x max_demand") {
  pipeline_options o;
  CHECK(causeway::in_flight_bound(o) == 2 * 1 * 500);
  o.processors.concurrency = 4;
  o.producer.concurrency = 3;
  o.processors.max_demand = 10;
  CHECK(causeway::in_flight_bound(o) == 4 * 3 * 10);
}

TEST_CASE("in_flight_bound adds each batcher's credit and its batch processors' batches") {
  pipeline_options o;  // 2 processors, 1 producer, max_demand 500
  o.batchers.push_back(batcher("one"));  // concurrency 1, batch_size 100, max_demand 0
  auto two = batcher("two");
  two.concurrency = 3;
  two.batch_size = 20;
  two.max_demand = 50;
  o.batchers.push_back(two);
  // processors: 2*1*500 = 1000
  // one: 2 processors * 200 credit + 1 batch processor * 2 batches * 100 = 600
  // two: 2 processors * 50 credit + 3 batch processors * 2 batches * 20 = 220
  CHECK(causeway::in_flight_bound(o) == 1820);
  CHECK(causeway::batch_processor_demand == 2);
}
