#include "causeway/amqp/queue_channel.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>

using causeway::amqp::backlog_span;
using causeway::amqp::detail::window_is_tight;
using namespace std::chrono_literals;

TEST_CASE("a window never full this generation is tight only above three quarters held") {
  CHECK_FALSE(window_is_tight(0, 1000, std::nullopt));
  CHECK_FALSE(window_is_tight(251, 1000, std::nullopt));
  CHECK_FALSE(window_is_tight(750, 1000, std::nullopt));
  CHECK(window_is_tight(751, 1000, std::nullopt));
  CHECK(window_is_tight(1000, 1000, std::nullopt));
}

TEST_CASE("within backlog_span of a full window, more than a quarter held is tight") {
  REQUIRE(backlog_span == 250ms);
  CHECK_FALSE(window_is_tight(250, 1000, 0ms));
  CHECK(window_is_tight(251, 1000, 0ms));
  CHECK(window_is_tight(251, 1000, 249ms));
  CHECK(window_is_tight(600, 1000, std::chrono::steady_clock::duration{backlog_span} - 1ns));
  // From backlog_span on, the steady rule again.
  CHECK_FALSE(window_is_tight(251, 1000, backlog_span));
  CHECK_FALSE(window_is_tight(750, 1000, 10s));
  CHECK(window_is_tight(751, 1000, 10s));
}

TEST_CASE("the quarters follow prefetch_count, odd sizes included") {
  // 10 slots: tight above 7.5 held, or above 2.5 shortly after a fill.
  CHECK_FALSE(window_is_tight(7, 10, std::nullopt));
  CHECK(window_is_tight(8, 10, std::nullopt));
  CHECK_FALSE(window_is_tight(2, 10, 1ms));
  CHECK(window_is_tight(3, 10, 1ms));
  // One slot: holding it is tight either way; holding none never is.
  CHECK(window_is_tight(1, 1, std::nullopt));
  CHECK_FALSE(window_is_tight(0, 1, 1ms));
}
