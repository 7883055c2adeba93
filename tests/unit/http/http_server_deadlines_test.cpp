// Slow, silent and numerous clients cannot blind the server: deadlines close them, and at the
// connection cap a newcomer is served while the most expendable connection goes.
#include "test_client.hpp"
#include "test_server.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace telluride::http;
using namespace telluride::http::testing;
using namespace std::chrono_literals;

namespace {

using clients = std::vector<std::unique_ptr<test_client>>;

// Opens `n` connections; each sends `first_bytes` (may be empty).
void open_connections(clients& out, std::uint16_t port, int n, const std::string& first_bytes) {
  for (int i = 0; i < n; ++i) {
    out.push_back(std::make_unique<test_client>(port));
    REQUIRE(out.back()->is_connected());
    if (!first_bytes.empty())
      REQUIRE(out.back()->send(first_bytes));
  }
}

// True when `client` is still open: sending `rest` (of a request to /hello) gets it answered.
bool is_served(test_client& client, const std::string& rest) {
  auto r = client.exchange(rest);
  return r && r->status == 200 && r->body == "hello world\n";
}

} // namespace

TEST_CASE("a slowloris client sending a header byte per 100 ms gets 408 and is closed at the deadline") {
  test_server ts{{.request_timeout = 300ms, .idle_timeout = 5s, .linger_timeout = 100ms}};
  test_client slow{ts.port()};
  std::string request = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(100, 'p') + "\r\n\r\n";
  auto first_byte = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  while (sent < request.size() && !slow.wait_readable(100ms))
    REQUIRE(slow.send(request.substr(sent++, 1)));
  auto answered_after = std::chrono::steady_clock::now() - first_byte;
  CHECK(sent < request.size());  // the request never completed
  auto r = slow.read_reply();
  REQUIRE(r);
  CHECK(r->status == 408);
  CHECK(r->body == "request not complete within 300 ms\n");
  CHECK(r->header("Connection") == "close");
  CHECK(slow.sees_close());
  CHECK(answered_after >= 250ms);  // not before the deadline (the loop clock rounds to 1 ms)
  CHECK(answered_after < 3s);
  CHECK(eventually([&] { return ts.server.connection_count() == 0; }));
  CHECK(ts.server.stop());
}

TEST_CASE("a connection that sends nothing is closed at the idle deadline, without a response") {
  test_server ts{{.request_timeout = 5s, .idle_timeout = 200ms}};
  test_client silent{ts.port()};
  auto before = std::chrono::steady_clock::now();
  CHECK(silent.sees_close());
  auto waited = std::chrono::steady_clock::now() - before;
  CHECK(waited >= 150ms);
  CHECK(waited < 3s);
  CHECK(eventually([&] { return ts.server.connection_count() == 0; }));
  CHECK(ts.server.stop());
}

TEST_CASE("a keep-alive connection idle after its response is closed at the idle deadline") {
  test_server ts{{.idle_timeout = 200ms}};
  test_client client{ts.port()};
  REQUIRE(client.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto before = std::chrono::steady_clock::now();
  CHECK(client.sees_close());
  auto waited = std::chrono::steady_clock::now() - before;
  CHECK(waited >= 150ms);
  CHECK(waited < 3s);
  CHECK(eventually([&] { return ts.server.connection_count() == 0; }));
  CHECK(ts.server.stop());
}

TEST_CASE("with 256 idle and slowloris connections held, /healthz is answered and the oldest idle one goes") {
  test_server ts;  // the contract's defaults: 256 connections, 10 s deadlines
  clients idle;
  clients slow;
  open_connections(idle, ts.port(), 128, "");
  REQUIRE(eventually([&] { return ts.server.connection_count() == 128; }));
  open_connections(slow, ts.port(), 128, "GET /hello HTTP/1.1\r\nX-Slow: ");
  REQUIRE(eventually([&] { return ts.server.connection_count() == 256; }));
  // Each slowloris client sends one more header byte every 100 ms meanwhile.
  std::atomic<bool> done{false};
  std::thread trickle{[&] {
    while (!done) {
      for (auto& c : slow)
        c->send("a");
      std::this_thread::sleep_for(100ms);
    }
  }};

  test_client health{ts.port()};
  auto r = health.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  done = true;
  trickle.join();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "{\"status\":\"ok\"}\n");
  CHECK(idle[0]->sees_close());
  CHECK(eventually([&] { return ts.server.connection_count() == 256; }));
  // Everyone else is still served: the next idle one, and the newest slowloris once it ends.
  CHECK(is_served(*idle[1], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(is_served(*slow[127], "\r\nHost: x\r\n\r\n"));
  CHECK(ts.server.stop());
}

TEST_CASE("at the cap with only slow requests held, the one that started first goes") {
  test_server ts{{.max_connections = 4}};
  clients slow;
  for (int i = 0; i < 4; ++i) {
    open_connections(slow, ts.port(), 1, "GET /hello HTTP/1.1\r\n");
    REQUIRE(eventually([&] { return ts.server.connection_count() == static_cast<std::size_t>(i + 1); }));
  }
  // The oldest request is still arriving, byte by byte: it goes all the same.
  REQUIRE(slow[0]->send("X-A: 1\r\n"));
  test_client health{ts.port()};
  auto r = health.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(slow[0]->sees_close());
  for (std::size_t i = 1; i < 4; ++i)
    CHECK(is_served(*slow[i], "Host: x\r\n\r\n"));
  CHECK(ts.server.stop());
}

TEST_CASE("at the cap a connection whose handler runs is kept while an idle one goes") {
  test_server ts{{.max_connections = 2}};
  test_client waiting{ts.port()};
  REQUIRE(waiting.send("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(ts.held->await_waiting(1));
  test_client idle{ts.port()};
  REQUIRE(eventually([&] { return ts.server.connection_count() == 2; }));
  test_client health{ts.port()};
  auto r = health.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(idle.sees_close());
  ts.held->open();
  auto released = waiting.read_reply();
  REQUIRE(released);
  CHECK(released->body == "released\n");
  CHECK(ts.server.stop());
}
