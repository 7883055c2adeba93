// Handlers declared `handler_thread::worker` run off the loop: while they wait, the loop answers
// everyone else; their number is bounded; their exceptions become 500; order holds per connection.
#include "test_client.hpp"
#include "test_server.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace telluride::http;
using namespace telluride::http::testing;
using namespace std::chrono_literals;

TEST_CASE("a handler waiting on a worker does not delay /healthz on another connection") {
  test_server ts;
  test_client slow{ts.port()};
  REQUIRE(slow.send("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(ts.held->await_waiting(1));
  test_client health{ts.port()};
  // Answered while the slow handler still waits: the gate opens only after this.
  auto r = health.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(!slow.wait_readable(0ms));
  ts.held->open();
  auto released = slow.read_reply();
  REQUIRE(released);
  CHECK(released->status == 200);
  CHECK(released->body == "released\n");
  CHECK(ts.server.stop());
}

TEST_CASE("requests pipelined behind a worker handler are answered after it, in order") {
  test_server ts;
  test_client client{ts.port()};
  REQUIRE(client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /gated HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /api/sensors/1/2/3 HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"));
  auto first = client.read_reply();
  REQUIRE(first);
  CHECK(first->body == "hello world\n");
  REQUIRE(ts.held->await_waiting(1));
  CHECK(!client.wait_readable(50ms));  // nothing overtakes the waiting handler
  ts.held->open();
  auto second = client.read_reply();
  auto third = client.read_reply();
  auto fourth = client.read_reply();
  REQUIRE((second && third && fourth));
  CHECK(second->body == "released\n");
  CHECK(third->body == "1|2|3");
  CHECK(fourth->body == "body");
  CHECK(ts.server.stop());
}

TEST_CASE("worker handlers beyond max_worker_handlers get 503 at once, and later ones run again") {
  test_server ts{{.max_worker_handlers = 2}};
  test_client a{ts.port()};
  test_client b{ts.port()};
  REQUIRE(a.send("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(b.send("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(ts.held->await_waiting(2));
  test_client c{ts.port()};
  auto busy = c.exchange("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(busy);
  CHECK(busy->status == 503);
  CHECK(busy->body == "too many slow requests in progress; retry shortly\n");
  CHECK(busy->header("Retry-After") == "1");
  CHECK(busy->header("Connection") == "keep-alive");
  ts.held->open();
  CHECK(a.read_reply().value_or(reply{}).status == 200);
  CHECK(b.read_reply().value_or(reply{}).status == 200);
  // The slots are free again (the gate stays open now).
  auto again = c.exchange("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(ts.server.stop());
}

TEST_CASE("a throwing handler gives 500, on the loop and on a worker, and the server keeps serving") {
  test_server ts;
  ts.held->open();
  test_client client{ts.port()};
  for (const char* path : {"/throw", "/gated-throw"}) {
    CAPTURE(path);
    auto r = client.exchange(std::string{"GET "} + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 500);
    CHECK(r->body == "internal server error\n");
    CHECK(r->header("Connection") == "keep-alive");
    auto next = client.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(next);
    CHECK(next->status == 200);
  }
  test_client other{ts.port()};
  CHECK(other.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").value_or(reply{}).status == 200);
  CHECK(ts.server.stop());
}

TEST_CASE("a worker route runs off the loop thread, a loop route on it") {
  std::mutex mutex;
  std::vector<std::thread::id> loop_threads;
  std::vector<std::thread::id> worker_threads;
  router routes;
  routes.add("GET", "/fast", [&](const request&, const route_params&) {
    std::lock_guard lock{mutex};
    loop_threads.push_back(std::this_thread::get_id());
    return response::text(200, "fast");
  });
  routes.add(
    "GET", "/slow",
    [&](const request&, const route_params&) {
      std::lock_guard lock{mutex};
      worker_threads.push_back(std::this_thread::get_id());
      return response::text(200, "slow");
    },
    handler_thread::worker);
  http_server server{{.listen = "127.0.0.1:0"}, std::move(routes)};
  REQUIRE(!server.start());
  {
    test_client client{server.port()};
    for (int i = 0; i < 3; ++i) {
      CHECK(client.exchange("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n").value_or(reply{}).body == "fast");
      CHECK(client.exchange("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").value_or(reply{}).body == "slow");
    }
  }
  CHECK(server.stop());
  REQUIRE(loop_threads.size() == 3);
  REQUIRE(worker_threads.size() == 3);
  CHECK(loop_threads[0] == loop_threads[1]);
  CHECK(loop_threads[1] == loop_threads[2]);
  for (auto id : worker_threads)
    CHECK(id != loop_threads[0]);
}

TEST_CASE("stop() waits for a running worker handler and closes the loop cleanly") {
  test_server ts;
  test_client client{ts.port()};
  REQUIRE(client.send("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(ts.held->await_waiting(1));
  std::atomic<bool> stopped{false};
  std::atomic<bool> clean{false};
  std::thread stopper{[&] {
    clean = ts.server.stop();
    stopped = true;
  }};
  CHECK(client.sees_close());  // its response is dropped
  CHECK(!stopped);              // the handler still runs
  ts.held->open();
  stopper.join();
  CHECK(clean);
  CHECK(ts.server.connection_count() == 0);
}
