// Deadlines and eviction ranks of one connection, as tables of events: no sockets, no clocks.
#include "telluride/http/connection_timeline.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using namespace telluride::http;
using namespace std::chrono_literals;

namespace {

// request 1000 ms, idle 400 ms, linger 50 ms: distinct, so each deadline is recognisable.
constexpr connection_timeouts timeouts{1000ms, 400ms, 50ms};

connection_timeline accepted_at(loop_time t, std::uint64_t serial = 0) {
  return connection_timeline{timeouts, t, serial};
}

} // namespace

TEST_CASE("a connection that sends nothing expires idle, from its acceptance") {
  auto c = accepted_at(100ms);
  CHECK(c.next_deadline() == 500ms);
  CHECK(c.expired(499ms) == expiry::none);
  CHECK(c.expired(500ms) == expiry::idle);
}

TEST_CASE("a request's deadline runs from its first byte and trickling bytes do not move it") {
  auto c = accepted_at(0ms);
  c.on_read(100ms, 0, true);  // first byte of a request
  // Each byte postpones the idle deadline, never the request deadline.
  for (auto t : {300ms, 500ms, 700ms, 900ms, 1099ms}) {
    c.on_read(t, 0, true);
    CHECK(c.expired(t) == expiry::none);
  }
  CHECK(c.next_deadline() == 1100ms);
  CHECK(c.expired(1100ms) == expiry::request);
}

TEST_CASE("a silent client mid-request expires idle before its request deadline") {
  auto c = accepted_at(0ms);
  c.on_read(100ms, 0, true);
  CHECK(c.next_deadline() == 500ms);  // idle (100 + 400) before request (100 + 1000)
  CHECK(c.expired(500ms) == expiry::idle);
}

TEST_CASE("completing a request stops its deadline and the next request gets its own") {
  auto c = accepted_at(0ms);
  c.on_read(100ms, 0, true);
  c.on_read(200ms, 1, false);  // complete, nothing after it
  CHECK(c.next_deadline() == 600ms);
  c.on_read(300ms, 0, true);   // the next request begins
  c.on_read(350ms, 1, true);   // ... completes, and a third begins in the same bytes
  const auto& r = std::get<phase::reading>(c.phase());
  CHECK(r.request_started == 350ms);
  CHECK(r.last_progress == 350ms);
}

TEST_CASE("a written response counts as progress while reading and finishing") {
  auto c = accepted_at(0ms);
  c.on_written(300ms);
  CHECK(c.next_deadline() == 700ms);
  c.finish(400ms);
  CHECK(c.is<phase::finishing>());
  CHECK(c.next_deadline() == 800ms);
  c.on_written(600ms);
  CHECK(c.next_deadline() == 1000ms);
  CHECK(c.expired(1000ms) == expiry::idle);
}

TEST_CASE("no client deadline runs while a handler runs on a worker") {
  auto c = accepted_at(0ms);
  c.on_read(100ms, 1, true);  // a request for a worker, and part of the next one
  c.start_handler(100ms);
  CHECK(c.is<phase::awaiting_handler>());
  CHECK(!c.next_deadline());
  CHECK(c.expired(100'000ms) == expiry::none);
  c.on_read(5000ms, 0, true);  // ignored: reading is paused
  CHECK(c.is<phase::awaiting_handler>());
  c.end_handler(60'000ms, true);
  // The partial request waited on the server: its clock starts again.
  CHECK(c.next_deadline() == 60'400ms);
  CHECK(std::get<phase::reading>(c.phase()).request_started == 60'000ms);
}

TEST_CASE("lingering ends at the linger deadline and closing has none") {
  auto c = accepted_at(0ms);
  c.linger(10ms);  // not from reading: ignored
  CHECK(c.is<phase::reading>());
  c.finish(100ms);
  c.linger(120ms);
  CHECK(c.is<phase::lingering>());
  CHECK(c.next_deadline() == 170ms);
  CHECK(c.expired(169ms) == expiry::none);
  CHECK(c.expired(170ms) == expiry::linger);
  c.close();
  CHECK(!c.next_deadline());
  CHECK(c.expired(1'000'000ms) == expiry::none);
  CHECK(!c.rank());
}

TEST_CASE("at the cap, lingering goes first, then the longest wait on a client, handlers last") {
  auto lingering = accepted_at(900ms, 9);
  lingering.finish(900ms);
  lingering.linger(950ms);
  auto idle_old = accepted_at(100ms, 1);  // idle since 100
  auto slow_request = accepted_at(0ms, 0);
  slow_request.on_read(200ms, 0, true);   // trickling since 200 ...
  slow_request.on_read(990ms, 0, true);   // ... however recent its last byte
  auto idle_new = accepted_at(300ms, 3);
  auto handler = accepted_at(0ms, 2);
  handler.on_read(0ms, 1, false);
  handler.start_handler(0ms);

  std::vector<eviction_rank> ranks{*handler.rank(), *idle_new.rank(), *slow_request.rank(), *idle_old.rank(),
                                   *lingering.rank()};
  std::sort(ranks.begin(), ranks.end());
  std::vector<std::uint64_t> order;
  for (const auto& r : ranks)
    order.push_back(r.serial);
  CHECK(order == std::vector<std::uint64_t>{9, 1, 0, 3, 2});
}

TEST_CASE("equal waits are broken by acceptance order") {
  auto first = accepted_at(100ms, 4);
  auto second = accepted_at(100ms, 5);
  CHECK(*first.rank() < *second.rank());
}

TEST_CASE("a stream expires idle from its last written frame and is never ranked for eviction") {
  auto c = accepted_at(0ms);
  c.on_read(10ms, 1, false);
  c.stream(20ms);
  REQUIRE(c.is<phase::streaming>());
  CHECK(c.next_deadline() == 420ms);
  CHECK_FALSE(c.rank().has_value());
  c.on_written(300ms);  // a frame reached the client's socket
  CHECK(c.next_deadline() == 700ms);
  CHECK(c.expired(699ms) == expiry::none);
  c.on_read(650ms, 0, true);  // a viewer's input is not progress
  CHECK(c.expired(700ms) == expiry::idle);
}

TEST_CASE("only a reading connection becomes a stream") {
  auto c = accepted_at(0ms);
  c.start_handler(5ms);
  c.stream(6ms);
  CHECK(c.is<phase::awaiting_handler>());
  c.end_handler(7ms, false);
  c.finish(8ms);
  c.stream(9ms);
  CHECK(c.is<phase::finishing>());
}
