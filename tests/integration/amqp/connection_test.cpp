#include "broker_helpers.hpp"

#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/topology_declaration.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace causeway::amqp;

namespace {

connection_options options_for(std::string url, std::string name = "causeway-test") {
  connection_options o;
  o.url = std::move(url);
  o.name = std::move(name);
  o.connect_timeout = std::chrono::milliseconds(3000);
  return o;
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

std::string with_credentials(const std::string& url, const std::string& user_pass) {
  auto at = url.find('@');
  return "amqp://" + user_pass + url.substr(at);
}

std::string with_vhost(const std::string& url, const std::string& vhost) {
  return url.substr(0, url.rfind('/') + 1) + vhost;
}

} // namespace

TEST_CASE("a connection opens, shows its name to the broker and closes cleanly") {
  auto name = amqp_test::unique_name("causeway-conn");
  auto conn = connection::open(options_for(amqp_test::broker_url(), name));
  REQUIRE_MESSAGE(conn, (conn ? "" : conn.err().message));
  CHECK((*conn)->stats().is_connected);
  CHECK((*conn)->stats().connects == 1);
  CHECK(amqp_test::wait_until([&] { return amqp_test::connections_named(name) == 1; },
                              std::chrono::seconds(10)));
  conn->reset();  // joins the thread
  CHECK(connection::unclean_loop_closes() == 0);
  CHECK(amqp_test::wait_until([&] { return amqp_test::connections_named(name) == 0; },
                              std::chrono::seconds(10)));
}

TEST_CASE("commands posted from the connection thread run in its next turn, in order, after the one posting them") {
  auto conn = connection::open(options_for(amqp_test::broker_url()));
  REQUIRE_MESSAGE(conn, (conn ? "" : conn.err().message));
  connection& c = **conn;
  std::vector<int> order;  // written on the connection thread only, read once `done` is set
  std::promise<void> done;
  REQUIRE(c.post([&] {
    order.push_back(1);
    c.post([&] {
      order.push_back(3);
      c.post([&] {
        order.push_back(5);
        done.set_value();
      });
      order.push_back(4);
    });
    order.push_back(2);
  }));
  REQUIRE(done.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(order == std::vector<int>{1, 2, 3, 4, 5});
  // Posted from outside again, the connection still runs what is posted.
  bool ran = false;
  CHECK(c.run_sync([&] { ran = c.in_connection_thread(); }));
  CHECK(ran);
  conn->reset();
  CHECK(connection::unclean_loop_closes() == 0);
}

TEST_CASE("alarms ring on the connection thread in the order they are due and never early, and cancelled or pending at the end they never ring") {
  auto conn = connection::open(options_for(amqp_test::broker_url()));
  REQUIRE_MESSAGE(conn, (conn ? "" : conn.err().message));
  connection& c = **conn;
  using std::chrono::milliseconds;
  using steady = std::chrono::steady_clock;
  struct rang {
    std::string name;
    bool is_on_time;  // not before it was due
    bool is_on_connection_thread;
  };
  std::vector<rang> rung;  // written on the connection thread only, read once `last` is set
  std::promise<void> last;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> pending_token = token;
  CHECK(c.run_sync([&] {
    const auto now = steady::now();
    auto ring = [&](std::string name, steady::time_point due, std::function<void()> then = {}) {
      return c.set_alarm(due, [&, name, due, then] {
        rung.push_back({name, steady::now() >= due, c.in_connection_thread()});
        if (then)
          then();
      });
    };
    ring("a", now + milliseconds(90), [&] { last.set_value(); });
    // Set from inside a ringing alarm, due already: it rings in the loop's next turn.
    ring("b", now + milliseconds(30), [&, ring] { ring("e", steady::now()); });
    const auto cancelled = ring("c", now + milliseconds(20));
    ring("d", now + milliseconds(30));  // due with b, set after it: rings after it
    c.cancel_alarm(cancelled);
    c.cancel_alarm(cancelled);  // again: no-op
    c.cancel_alarm(0);
    // Still pending when the connection shuts down: dropped, with what it holds.
    c.set_alarm(now + std::chrono::hours(1), [token = std::move(token)] {});
  }));
  REQUIRE(last.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  conn->reset();
  REQUIRE(rung.size() == 4);
  CHECK(rung[0].name == "b");
  CHECK(rung[1].name == "d");
  CHECK(rung[2].name == "e");
  CHECK(rung[3].name == "a");
  for (const auto& r : rung) {
    CHECK_MESSAGE(r.is_on_time, r.name);
    CHECK_MESSAGE(r.is_on_connection_thread, r.name);
  }
  CHECK(pending_token.expired());
  CHECK(connection::unclean_loop_closes() == 0);
}

TEST_CASE("a bad URL is a one-line error") {
  auto conn = connection::open(options_for("amqp://guest:guest@127.0.0.1:notaport/%2f"));
  REQUIRE_FALSE(conn);
  CHECK(one_line(conn.err().message));
  CHECK(conn.err().message.find("port must be a number") != std::string::npos);
}

TEST_CASE("an unreachable broker is a one-line error naming host and port") {
  auto conn = connection::open(options_for("amqp://guest:guest@127.0.0.1:1/%2f"));
  REQUIRE_FALSE(conn);
  MESSAGE(conn.err().message);
  CHECK(one_line(conn.err().message));
  CHECK(conn.err().message.find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE("a refused login is a one-line error without the password") {
  auto url = with_credentials(amqp_test::broker_url(), "guest:wrong-secret-pw");
  auto conn = connection::open(options_for(url));
  REQUIRE_FALSE(conn);
  MESSAGE(conn.err().message);
  CHECK(one_line(conn.err().message));
  CHECK(conn.err().message.find("ACCESS_REFUSED") != std::string::npos);
  CHECK(conn.err().message.find("wrong-secret-pw") == std::string::npos);
}

TEST_CASE("a missing vhost is a one-line error naming it") {
  auto conn = connection::open(options_for(with_vhost(amqp_test::broker_url(), "no-such-vhost")));
  REQUIRE_FALSE(conn);
  MESSAGE(conn.err().message);
  CHECK(one_line(conn.err().message));
  CHECK(conn.err().message.find("no-such-vhost") != std::string::npos);
}

TEST_CASE("re-declaring a queue with other arguments names the queue and the argument") {
  auto conn = connection::open(options_for(amqp_test::broker_url()));
  REQUIRE(conn);
  auto queue = amqp_test::unique_name("causeway-precondition");
  topology_spec first;
  first.queues.push_back({queue, true, false, false, {{"x-max-length", std::int64_t{10}}}});
  REQUIRE(declare(**conn, first));
  CHECK(declare(**conn, first));  // idempotent
  topology_spec other = first;
  other.queues[0].args = {{"x-max-length", std::int64_t{20}}};
  auto result = declare(**conn, other);
  REQUIRE_FALSE(result);
  const auto& msg = result.err().message;
  MESSAGE(msg);
  CHECK(one_line(msg));
  CHECK(msg.find("PRECONDITION_FAILED") != std::string::npos);
  CHECK(msg.find(queue) != std::string::npos);
  CHECK(msg.find("x-max-length") != std::string::npos);
  // The connection survived the channel-level failure.
  auto state = inspect_queue(**conn, queue);
  REQUIRE(state);
  CHECK(state->messages_ready == 0);
  CHECK((*conn)->stats().losses == 0);
  CHECK(delete_queue(**conn, queue));
  auto gone = inspect_queue(**conn, queue);
  REQUIRE_FALSE(gone);
  CHECK(gone.err().message.find("NOT_FOUND") != std::string::npos);
}

// Over plain TCP the connection reads frames itself (frame_reader.hpp), not through
// rabbitmq-c's reads, which send its heartbeats and count the broker's: it sends its own, and
// tells rabbitmq-c of what it read, or an RPC after a quiet spell would give up on the broker.
TEST_CASE("1 s heartbeats keep a quiet plain connection open, and RPCs after quiet spells answer") {
  auto options = options_for(amqp_test::broker_url(), amqp_test::unique_name("causeway-quiet"));
  options.heartbeat = std::chrono::seconds(1);
  auto conn = connection::open(options);
  REQUIRE_MESSAGE(conn, (conn ? "" : conn.err().message));
  auto queue = amqp_test::unique_name("causeway-quiet");
  topology_spec spec;
  spec.queues.push_back({queue, false, false, true, {}});
  REQUIRE(declare(**conn, spec));
  for (int spell = 0; spell < 2; ++spell) {
    CAPTURE(spell);
    std::this_thread::sleep_for(std::chrono::seconds(4));  // the broker gives up after 2 s
    auto state = inspect_queue(**conn, queue);
    REQUIRE_MESSAGE(state, (state ? "" : state.err().message));
    CHECK(state->messages_ready == 0);
    const auto stats = (*conn)->stats();
    CHECK(stats.is_connected);
    CHECK(stats.connects == 1);
    CHECK(stats.losses == 0);
  }
  CHECK(delete_queue(**conn, queue));
  conn->reset();
  CHECK(connection::unclean_loop_closes() == 0);
}
