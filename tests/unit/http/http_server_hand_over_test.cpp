// One server giving its listening socket to the next (a daemon's standby server to its own):
// a client that connects in between waits and is answered by the next, none is refused.
#include "test_client.hpp"
#include "test_server.hpp"

#include <doctest/doctest.h>

using namespace telluride::http;
using namespace telluride::http::testing;

namespace {

router answering(std::string body) {
  router routes;
  routes.add("GET", "/who", [body](const request&, const route_params&) { return response::text(200, body); });
  return routes;
}

} // namespace

TEST_CASE("a server started on the socket another stopped with stop_keeping_listener answers who connected between") {
  http_server first{{.listen = "127.0.0.1:0"}, answering("first\n")};
  REQUIRE(!first.start());
  const auto port = first.port();
  {
    test_client client{port};
    auto r = client.exchange("GET /who HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->body == "first\n");
  }

  auto socket = first.stop_keeping_listener();
  REQUIRE(socket.is_open());
  CHECK(first.connection_count() == 0);
  // No server runs: the kernel still completes the handshake, the request waits.
  test_client between{port};
  REQUIRE(between.is_connected());
  REQUIRE(between.send("GET /who HTTP/1.1\r\nHost: x\r\n\r\n"));

  http_server second{{.listen = "127.0.0.1:" + std::to_string(port)}, answering("second\n")};
  REQUIRE(!second.start(std::move(socket)));
  CHECK(!socket.is_open());  // the second server owns it now
  CHECK(second.port() == port);
  auto r = between.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "second\n");
  test_client after{port};
  auto again = after.exchange("GET /who HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(again);
  CHECK(again->body == "second\n");

  CHECK(second.stop());
  test_client refused{port};
  CHECK(!refused.is_connected());
}

TEST_CASE("stop_keeping_listener of a server that never ran, or ran and stopped, keeps nothing") {
  http_server never{{.listen = "127.0.0.1:0"}, answering("never\n")};
  CHECK(!never.stop_keeping_listener().is_open());

  http_server stopped{{.listen = "127.0.0.1:0"}, answering("stopped\n")};
  REQUIRE(!stopped.start());
  const auto port = stopped.port();
  CHECK(stopped.stop());
  CHECK(!stopped.stop_keeping_listener().is_open());
  test_client refused{port};
  CHECK(!refused.is_connected());
}

TEST_CASE("a kept socket nobody adopts is closed with its owner") {
  std::uint16_t port = 0;
  {
    http_server first{{.listen = "127.0.0.1:0"}, answering("first\n")};
    REQUIRE(!first.start());
    port = first.port();
    auto socket = first.stop_keeping_listener();
    REQUIRE(socket.is_open());
    test_client waiting{port};
    CHECK(waiting.is_connected());
  }
  test_client refused{port};
  CHECK(!refused.is_connected());
}
