#include "causeway/amqp/stall_rule.hpp"

#include <doctest/doctest.h>

#include <cstddef>

using causeway::amqp::detail::stall_rule;

namespace {

void deliver(stall_rule& rule, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    rule.delivered();
}

} // namespace

TEST_CASE("the first full window stalls the stages at once, once everything is handed on") {
  stall_rule rule(250);
  deliver(rule, 1000);
  CHECK_FALSE(rule.on_burst_end(false, true));  // room left: more may come
  CHECK_FALSE(rule.on_burst_end(true, false));  // full, but deliveries still wait to be handed on
  CHECK(rule.on_burst_end(true, true));
  // The same full window, reported again by the next burst, does not stall twice.
  CHECK_FALSE(rule.on_burst_end(true, true));
}

TEST_CASE("acknowledgements that refill the window in slivers stall again only after a quarter of it") {
  stall_rule rule(250);
  deliver(rule, 1000);
  REQUIRE(rule.on_burst_end(true, true));
  // 249 deliveries in 83 slivers of 3, each refilling the full window: no stall among them.
  std::size_t since = 0;
  int stalls = 0;
  while (since < 249) {
    deliver(rule, 3);
    since += 3;
    if (rule.on_burst_end(true, true))
      ++stalls;
  }
  CHECK(since == 249);
  CHECK(stalls == 0);
  rule.delivered();  // the 250th
  CHECK(rule.on_burst_end(true, true));
  // And the count starts over from there.
  deliver(rule, 249);
  CHECK_FALSE(rule.on_burst_end(true, true));
  rule.delivered();
  CHECK(rule.on_burst_end(true, true));
}

TEST_CASE("deliveries count towards the next stall while the window has room") {
  stall_rule rule(4);
  REQUIRE(rule.on_burst_end(true, true));
  deliver(rule, 10);
  CHECK_FALSE(rule.on_burst_end(false, true));
  CHECK(rule.on_burst_end(true, true));
}

TEST_CASE("a window of one stalls at every full window") {
  stall_rule rule(1);
  for (int i = 0; i < 5; ++i) {
    rule.delivered();
    CHECK(rule.on_burst_end(true, true));
  }
}
