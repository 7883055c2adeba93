// What the daemon derives from one snapshot — ready or why not, readings in flight,
// reconnects — without actors or a broker.
#include "telluride/daemon/daemon_snapshot.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using telluride::daemon_snapshot;
using telluride::readiness;

TEST_CASE("readiness names the first problem: restarting, then the broker, then a part") {
  struct row {
    bool consuming;
    bool connected;
    std::optional<std::string> part_problem;
    std::optional<std::string> problem;
  };
  const row table[] = {
    {true, true, std::nullopt, std::nullopt},
    {false, true, std::nullopt, "the readings pipeline is restarting"},
    {false, false, "reporter: stopped", "the readings pipeline is restarting"},
    {true, false, std::nullopt, "the broker connection is down"},
    {true, false, "reporter: stopped", "the broker connection is down"},
    {true, true, "config handler: stopped (runtime_error), restarting",
     "config handler: stopped (runtime_error), restarting"},
  };
  for (const auto& r : table) {
    readiness ready{r.consuming, r.connected, r.part_problem};
    CAPTURE(r.consuming);
    CAPTURE(r.connected);
    CHECK(ready.problem() == r.problem);
    CHECK(ready.is_ready() == !r.problem.has_value());
  }
}

TEST_CASE("in flight is delivered minus every kind of settlement, never below zero") {
  daemon_snapshot s;
  CHECK(s.in_flight() == 0);
  s.readings.delivered = 1000;
  s.readings.acked = 600;
  s.readings.rejected = 20;
  s.readings.requeued = 30;
  s.readings.dropped_acks = 50;
  CHECK(s.in_flight() == 300);
  // Counters are read one after the other: settlements may run ahead of deliveries.
  s.readings.acked = 960;
  CHECK(s.in_flight() == 0);
  s.readings.acked = 900;
  CHECK(s.in_flight() == 0);
  s.readings.acked = 899;
  CHECK(s.in_flight() == 1);
}

TEST_CASE("reconnects count the opens after the first") {
  daemon_snapshot s;
  CHECK(s.reconnects() == 0);
  s.connection.connects = 1;
  CHECK(s.reconnects() == 0);
  s.connection.connects = 4;
  CHECK(s.reconnects() == 3);
}
