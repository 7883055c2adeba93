#include "causeway/amqp/backoff.hpp"
#include "causeway/amqp/health_streak.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace health_streak_test {

using causeway::amqp::backoff;
using causeway::amqp::health_streak;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds healthy_after{2000};
const health_streak::time_point t0{};

health_streak::time_point at(int ms) { return t0 + milliseconds{ms}; }

// One event of a connection's life: everything open (or not) at `ms`, or the loss at `ms`
// with whether it must start the retries over.
struct event {
  enum kind_t { open, not_open, loss } kind;
  int ms;
  bool restarts = false;  // for a loss
};

struct streak_case {
  const char* claim;
  std::vector<event> events;
};

} // namespace

TEST_CASE("a loss starts the retries over only after everything stayed open for healthy_after") {
  const std::vector<streak_case> cases = {
    {"open for exactly healthy_after, then lost", {{event::open, 0}, {event::loss, 2000, true}}},
    {"lost 1 ms before healthy_after", {{event::open, 0}, {event::loss, 1999, false}}},
    {"a broker that accepts and drops at once", {{event::open, 0}, {event::loss, 5, false}}},
    {"lost without ever being open", {{event::loss, 10000, false}}},
    {"connected but a channel never reopened", {{event::not_open, 0}, {event::loss, 60000, false}}},
    {"updates while everything stays open keep the streak's start",
     {{event::open, 0}, {event::open, 1500}, {event::open, 1900}, {event::loss, 2000, true}}},
    {"a channel failure breaks the streak; it restarts when the channel is back",
     {{event::open, 0}, {event::not_open, 1500}, {event::open, 1600}, {event::loss, 3599, false}}},
    {"the restarted streak counts from the channel's return",
     {{event::open, 0}, {event::not_open, 1500}, {event::open, 1600}, {event::loss, 3600, true}}},
    {"a loss ends the streak: the next connection proves itself again",
     {{event::open, 0}, {event::loss, 5000, true}, {event::loss, 9000, false}}},
    {"a reconnect that stays up proves itself from its own open",
     {{event::open, 0}, {event::loss, 5000, true}, {event::open, 6000}, {event::loss, 7999, false}}},
    {"three healthy connections in a row each start over",
     {{event::open, 0}, {event::loss, 3000, true},
      {event::open, 4000}, {event::loss, 7000, true},
      {event::open, 8000}, {event::loss, 10000, true}}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.claim));
    health_streak streak(healthy_after);
    for (const auto& e : c.events) {
      CAPTURE(e.ms);
      switch (e.kind) {
        case event::open: streak.update(true, at(e.ms)); break;
        case event::not_open: streak.update(false, at(e.ms)); break;
        case event::loss: CHECK(streak.on_loss(at(e.ms)) == e.restarts); break;
      }
    }
  }
}

TEST_CASE("is_healthy turns true at healthy_after and does not change the streak") {
  health_streak streak(healthy_after);
  CHECK_FALSE(streak.is_healthy(at(0)));
  streak.update(true, at(100));
  CHECK_FALSE(streak.is_healthy(at(2099)));
  CHECK(streak.is_healthy(at(2100)));
  CHECK(streak.is_healthy(at(2100)));
  CHECK(streak.on_loss(at(2100)));
  CHECK_FALSE(streak.is_healthy(at(5000)));
}

// What the connection does on a loss: reset the backoff when the streak says so, then take the
// next delay; the attempt index of that delay is what connection_stats::first_retry_attempt shows.
TEST_CASE("with the streak, the first retry after each healthy connection's loss is attempt 0") {
  std::mt19937_64 rng(11);
  backoff retries;
  health_streak streak(healthy_after);
  auto lose = [&](int ms) {
    if (streak.on_loss(at(ms)))
      retries.reset();
    auto first = retries.attempts();
    retries.next(rng);
    return first;
  };
  int now = 0;
  std::vector<std::uint32_t> first_attempts;
  for (int restart = 0; restart < 3; ++restart) {
    streak.update(true, at(now));
    now += 3000;  // up and consuming for longer than healthy_after
    first_attempts.push_back(lose(now));
    for (int failed = 0; failed < 6; ++failed)  // the broker is away: six failed reconnects
      retries.next(rng);
    CHECK(retries.attempts() == 7);
    now += 5000;
  }
  CHECK(first_attempts == std::vector<std::uint32_t>{0, 0, 0});

  // A broker that now accepts and drops each connection at once: the retries go on.
  std::vector<std::uint32_t> flapping;
  for (int i = 0; i < 3; ++i) {
    streak.update(true, at(now));
    now += 10;
    flapping.push_back(lose(now));
  }
  CHECK(flapping == std::vector<std::uint32_t>{7, 8, 9});
}

} // namespace health_streak_test
