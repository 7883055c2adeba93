// Bad input, misbehaving clients and shutdown: a clear error, nothing else changes, no crash.
#include "test_client.hpp"
#include "test_server.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <thread>
#include <vector>

using namespace telluride::http;
using namespace telluride::http::testing;
using namespace std::chrono_literals;

TEST_CASE("starting on a port already in use returns an error value") {
  test_server ts;
  http_server second{{.listen = "127.0.0.1:" + std::to_string(ts.port())}, test_routes()};
  auto err = second.start();
  REQUIRE(err);
  CHECK(err->message == "cannot listen on 127.0.0.1:" + std::to_string(ts.port()) + ": address already in use");
  CHECK(second.stop());
  CHECK(second.port() == 0);
  // The first server is untouched.
  test_client client{ts.port()};
  auto r = client.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(ts.server.stop());
}

TEST_CASE("a bad listen address or option returns an error value naming it") {
  http_server bad_host{{.listen = "example.invalid:80"}, test_routes()};
  auto err = bad_host.start();
  REQUIRE(err);
  CHECK(err->message == "cannot listen on example.invalid:80: host must be a numeric IP address or localhost");
  http_server bad_port{{.listen = "127.0.0.1:99999"}, test_routes()};
  err = bad_port.start();
  REQUIRE(err);
  CHECK(err->message == "cannot listen on 127.0.0.1:99999: port must be in 0..65535");
  http_server no_room{{.listen = "127.0.0.1:0", .max_connections = 0}, test_routes()};
  err = no_room.start();
  REQUIRE(err);
  CHECK(err->message == "cannot listen on 127.0.0.1:0: max_connections must be at least 1");
  http_server twice{{.listen = "127.0.0.1:0"}, test_routes()};
  REQUIRE(!twice.start());
  err = twice.start();
  REQUIRE(err);
  CHECK(err->message == "cannot listen on 127.0.0.1:0: the server was already started");
  CHECK(twice.stop());
}

TEST_CASE("stop() with open client connections closes them and the loop cleanly") {
  test_server ts;
  test_client idle{ts.port()};
  test_client half_sent{ts.port()};
  test_client served{ts.port()};
  REQUIRE(served.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(half_sent.send("POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial"));
  REQUIRE(eventually([&] { return ts.server.connection_count() == 3; }));
  CHECK(ts.server.stop());
  CHECK(ts.server.connection_count() == 0);
  CHECK(idle.sees_close());
  CHECK(half_sent.sees_close());
  CHECK(served.sees_close());
  CHECK(ts.server.stop());  // idempotent
}

TEST_CASE("the destructor of a running server stops it") {
  std::uint16_t port = 0;
  auto client = std::unique_ptr<test_client>{};
  {
    test_server ts;
    port = ts.port();
    client = std::make_unique<test_client>(port);
    REQUIRE(client->exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  CHECK(client->sees_close());
  test_client refused{port};
  CHECK(!refused.is_connected());
}

TEST_CASE("a client that resets mid-request is cleaned up") {
  test_server ts;
  {
    test_client client{ts.port()};
    REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly part"));
    REQUIRE(eventually([&] { return ts.server.connection_count() == 1; }));
    client.reset();
  }
  CHECK(eventually([&] { return ts.server.connection_count() == 0; }));
  {
    test_client client{ts.port()};
    REQUIRE(client.send("GET /hel"));
    // A FIN mid-request, too.
  }
  CHECK(eventually([&] { return ts.server.connection_count() == 0; }));
  test_client next{ts.port()};
  auto r = next.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(ts.server.stop());
}

TEST_CASE("a client that half-closes after its request still gets the response") {
  test_server ts;
  test_client client{ts.port()};
  REQUIRE(client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(client.shutdown_sending());
  auto r = client.read_reply();
  REQUIRE(r);
  CHECK(r->body == "hello world\n");
  CHECK(client.sees_close());
  CHECK(ts.server.stop());
}

TEST_CASE("many clients at once are all answered") {
  test_server ts;
  std::vector<std::unique_ptr<test_client>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<test_client>(ts.port()));
    REQUIRE(clients.back()->send("GET /api/sensors/l/d/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (int i = 0; i < 50; ++i) {
    auto r = clients[static_cast<std::size_t>(i)]->read_reply();
    REQUIRE(r);
    CHECK(r->body == "l|d|" + std::to_string(i));
  }
  CHECK(ts.server.stop());
}

TEST_CASE("a client that pipelines without reading neither blocks others nor loses responses") {
  test_server ts{{.max_queued_response_bytes = 64 * 1024}};
  test_client flooder{ts.port()};
  std::string burst;
  for (int i = 0; i < 200; ++i)
    burst += "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  // 200 x 64 KiB of responses is far more than the socket buffers hold: the server must stop
  // reading from this client instead of queueing it all, and still serve everyone else.
  std::thread sender{[&] { flooder.send(burst); }};
  std::this_thread::sleep_for(100ms);
  test_client other{ts.port()};
  auto r = other.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  int complete = 0;
  for (int i = 0; i < 200; ++i) {
    auto big = flooder.read_reply();
    if (!big || big->body.size() != 64 * 1024)
      break;
    ++complete;
  }
  sender.join();
  CHECK(complete == 200);
  CHECK(ts.server.stop());
}

TEST_CASE("the handler runs on the server's thread, not the caller's") {
  std::thread::id handler_thread;
  http_server server{{.listen = "127.0.0.1:0"}, [&](const request&) {
                       handler_thread = std::this_thread::get_id();
                       return response::text(200, "ok");
                     }};
  REQUIRE(!server.start());
  {
    test_client client{server.port()};
    REQUIRE(client.exchange("GET /anything HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  CHECK(server.stop());
  CHECK(handler_thread != std::thread::id{});
  CHECK(handler_thread != std::this_thread::get_id());
}
