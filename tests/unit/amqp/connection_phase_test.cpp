#include "causeway/amqp/connection_phase.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace causeway::amqp;
using namespace causeway::amqp::detail;

namespace {

enum class event { connected, failed, lost, shutdown, closed };

const char* event_name(event e) {
  switch (e) {
    case event::connected: return "connected";
    case event::failed: return "failed";
    case event::lost: return "lost";
    case event::shutdown: return "shutdown";
    case event::closed: return "closed";
  }
  return "?";
}

failure lost_socket(std::string why) { return failure{failure_scope::connection, 0, std::move(why)}; }

// Drives a fresh lifecycle into `phase` through its own events.
connection_lifecycle in_phase(const std::string& phase) {
  connection_lifecycle life;
  if (phase == "connecting")
    return life;
  if (phase == "closed") {
    life.on_closed();
    return life;
  }
  life.on_connected();
  if (phase == "connected")
    return life;
  if (phase == "closing") {
    life.on_shutdown();
    return life;
  }
  if (phase == "failing_then_stop") {
    life.on_shutdown();
    life.on_failure(lost_socket("first"));
    return life;
  }
  life.on_failure(lost_socket("first"));
  if (phase == "failing")
    return life;
  life.on_lost();  // waiting_to_reconnect
  return life;
}

// Returns what the event returned (on_failure, on_lost), false for the others.
bool apply(connection_lifecycle& life, event e) {
  switch (e) {
    case event::connected: life.on_connected(); return false;
    case event::failed: return life.on_failure(lost_socket("second"));
    case event::lost: return life.on_lost();
    case event::shutdown: life.on_shutdown(); return false;
    case event::closed: life.on_closed(); return false;
  }
  return false;
}

struct transition {
  const char* from;  // in_phase's names
  event what;
  const char* to;    // name(phase) afterwards
  bool returned;     // on_failure: applied; on_lost: reconnect
};

} // namespace

TEST_CASE("a fresh connection lifecycle is connecting, without a socket") {
  connection_lifecycle life;
  CHECK(std::string(name(life.phase())) == "connecting");
  CHECK_FALSE(life.has_socket());
  CHECK_FALSE(life.is_usable());
  CHECK_FALSE(life.is_shutting_down());
  CHECK(life.pending_failure() == nullptr);
}

TEST_CASE("each connection phase answers each event as the table in connection_phase.hpp says") {
  const std::vector<transition> table{
    {"connecting", event::connected, "connected", false},
    {"connecting", event::failed, "connecting", false},
    {"connecting", event::lost, "connecting", false},
    {"connecting", event::shutdown, "closed", false},
    {"connecting", event::closed, "closed", false},
    {"connected", event::connected, "connected", false},
    {"connected", event::failed, "failing", true},
    {"connected", event::lost, "connected", false},
    {"connected", event::shutdown, "closing", false},
    {"connected", event::closed, "closed", false},
    {"failing", event::connected, "failing", false},
    {"failing", event::failed, "failing", false},
    {"failing", event::lost, "waiting_to_reconnect", true},
    {"failing", event::shutdown, "failing", false},
    {"failing", event::closed, "closed", false},
    {"failing_then_stop", event::lost, "closed", false},
    {"failing_then_stop", event::failed, "failing", false},
    {"waiting_to_reconnect", event::connected, "connected", false},
    {"waiting_to_reconnect", event::failed, "waiting_to_reconnect", false},
    {"waiting_to_reconnect", event::lost, "waiting_to_reconnect", false},
    {"waiting_to_reconnect", event::shutdown, "closed", false},
    {"waiting_to_reconnect", event::closed, "closed", false},
    {"closing", event::connected, "closing", false},
    {"closing", event::failed, "failing", true},
    {"closing", event::lost, "closing", false},
    {"closing", event::shutdown, "closing", false},
    {"closing", event::closed, "closed", false},
    {"closed", event::connected, "closed", false},
    {"closed", event::failed, "closed", false},
    {"closed", event::lost, "closed", false},
    {"closed", event::shutdown, "closed", false},
    {"closed", event::closed, "closed", false},
  };
  for (const auto& t : table) {
    CAPTURE(t.from);
    CAPTURE(event_name(t.what));
    auto life = in_phase(t.from);
    bool returned = apply(life, t.what);
    CHECK(std::string(name(life.phase())) == t.to);
    CHECK(returned == t.returned);
  }
}

TEST_CASE("what each connection phase allows") {
  struct allowed {
    const char* phase;
    bool has_socket;
    bool is_usable;
    bool is_shutting_down;
  };
  const std::vector<allowed> table{
    {"connecting", false, false, false},
    {"connected", true, true, false},
    {"failing", true, false, false},
    {"failing_then_stop", true, false, true},
    {"waiting_to_reconnect", false, false, false},
    {"closing", true, true, true},
    {"closed", false, false, true},
  };
  for (const auto& a : table) {
    CAPTURE(a.phase);
    auto life = in_phase(a.phase);
    CHECK(life.has_socket() == a.has_socket);
    CHECK(life.is_usable() == a.is_usable);
    CHECK(life.is_shutting_down() == a.is_shutting_down);
  }
}

TEST_CASE("the first connection-level failure is the one applied, later ones are dropped") {
  connection_lifecycle life;
  life.on_connected();
  CHECK(life.on_failure(lost_socket("read from 127.0.0.1:5672: connection reset")));
  CHECK_FALSE(life.on_failure(lost_socket("no heartbeat from the broker for 31 s")));
  REQUIRE(life.pending_failure() != nullptr);
  CHECK(life.pending_failure()->message == "read from 127.0.0.1:5672: connection reset");
  CHECK(life.on_lost());
  CHECK(life.pending_failure() == nullptr);
}

TEST_CASE("a shutdown while a failure waits keeps the failure and stops instead of reconnecting") {
  connection_lifecycle life;
  life.on_connected();
  life.on_failure(lost_socket("socket error: connection reset"));
  life.on_shutdown();
  REQUIRE(life.pending_failure() != nullptr);
  CHECK(life.pending_failure()->message == "socket error: connection reset");
  CHECK(life.is_shutting_down());
  CHECK_FALSE(life.on_lost());
  CHECK(std::string(name(life.phase())) == "closed");
}

TEST_CASE("a connection reconnects as often as it is lost, until it shuts down") {
  connection_lifecycle life;
  for (int i = 0; i < 3; ++i) {
    life.on_connected();
    CHECK(life.is_usable());
    life.on_failure(lost_socket("broker closed the connection: CONNECTION_FORCED"));
    CHECK(life.on_lost());
    CHECK(std::string(name(life.phase())) == "waiting_to_reconnect");
  }
  life.on_shutdown();
  CHECK(std::string(name(life.phase())) == "closed");
  life.on_connected();
  CHECK(std::string(name(life.phase())) == "closed");
}
