// Live streams (response::event_stream) on a real server: framing on the wire, the slow viewer
// dropped while another keeps receiving, the streams' own cap beside the connection cap, and
// viewers leaving.
#include "test_client.hpp"

#include "telluride/http/http_server.hpp"
#include "telluride/http/router.hpp"
#include "telluride/http/sse_frame.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>

using namespace telluride::http;
using namespace telluride::http::testing;
using namespace std::chrono_literals;

namespace {

const std::string head = sse_stream_head(2000ms);
constexpr std::string_view stream_request = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";

/// A started server on 127.0.0.1:0 with GET /stream (the feed) and GET /healthz.
struct stream_server {
  explicit stream_server(server_options options = {}) : server(with_port_zero(std::move(options)), routes(feed)) {
    auto err = server.start();
    REQUIRE_MESSAGE(!err, (err ? err->message : ""));
  }
  static server_options with_port_zero(server_options options) {
    options.listen = "127.0.0.1:0";
    return options;
  }
  static router routes(const std::shared_ptr<event_feed>& feed) {
    router r;
    r.add("GET", "/stream", [feed](const request&, const route_params&) { return response::event_stream(feed); });
    r.add("GET", "/healthz", [](const request&, const route_params&) { return response::text(200, "ok\n"); });
    return r;
  }
  std::uint16_t port() const { return server.port(); }

  std::shared_ptr<event_feed> feed = std::make_shared<event_feed>();
  http_server server;
};

/// Opens a stream and reads its head; REQUIREs both.
void open_stream(test_client& client) {
  REQUIRE(client.is_connected());
  REQUIRE(client.send(stream_request));
  auto got = client.read_through("retry: 2000\n\n");
  REQUIRE(got);
  CHECK(*got == head);
}

std::optional<std::string> next_event(test_client& client) { return client.read_through("\n\n"); }

} // namespace

TEST_CASE("a viewer gets the stream head, the latest frame at once, then each frame published") {
  stream_server s;
  s.feed->publish(sse_event("first"));
  test_client viewer{s.port()};
  open_stream(viewer);
  CHECK(next_event(viewer) == "data: first\n\n");
  REQUIRE(eventually([&] { return s.server.stream_count() == 1; }));
  s.feed->publish(sse_event("second"));
  CHECK(next_event(viewer) == "data: second\n\n");
  s.feed->publish(sse_event("third"));
  CHECK(next_event(viewer) == "data: third\n\n");
  CHECK(s.server.slow_viewers_dropped() == 0);
}

TEST_CASE("a stream opened before the first frame waits for it") {
  stream_server s;
  test_client viewer{s.port()};
  open_stream(viewer);
  CHECK_FALSE(viewer.wait_readable(200ms));
  s.feed->publish(sse_event("{\"n\":1}"));
  CHECK(next_event(viewer) == "data: {\"n\":1}\n\n");
}

TEST_CASE("a viewer that never reads is closed at its buffer limit while another keeps receiving") {
  server_options options;
  options.max_stream_buffer_bytes = 256 * 1024;
  stream_server s{options};
  // The slow viewer's receive buffer is small, so the server's queue fills sooner; it still
  // holds several MiB in the kernel before the server's own queue grows.
  test_client slow{s.port(), 5s, 4096};
  test_client reader{s.port()};
  open_stream(slow);
  open_stream(reader);
  REQUIRE(eventually([&] { return s.server.stream_count() == 2; }));

  const std::string filler(100 * 1024, 'x');
  int published = 0;
  // Each frame is published once the reader has the previous one, so the reader misses none.
  // 400 frames of 100 KiB (40 MiB) are far more than the kernel's socket buffers hold.
  while (published < 400 && s.server.slow_viewers_dropped() == 0) {
    ++published;
    s.feed->publish(sse_event(std::to_string(published) + ":" + filler));
    auto got = next_event(reader);
    REQUIRE(got);
    REQUIRE(got->substr(0, 6 + std::to_string(published).size() + 1) == "data: " + std::to_string(published) + ":");
  }
  REQUIRE(eventually([&] { return s.server.slow_viewers_dropped() == 1; }));
  CHECK(published < 400);
  REQUIRE(eventually([&] { return s.server.stream_count() == 1; }));
  // The reader goes on receiving after the slow viewer was dropped.
  for (int i = 1; i <= 3; ++i) {
    s.feed->publish(sse_event("after " + std::to_string(i)));
    CHECK(next_event(reader) == "data: after " + std::to_string(i) + "\n\n");
  }
  CHECK(s.server.slow_viewers_dropped() == 1);
}

TEST_CASE("streams have their own cap: beyond it 503, and a health check still gets through at the connection cap") {
  server_options options;
  options.max_streams = 2;
  options.max_connections = 2;
  stream_server s{options};
  s.feed->publish(sse_event("0"));
  test_client a{s.port()};
  test_client b{s.port()};
  open_stream(a);
  open_stream(b);
  CHECK(next_event(a) == "data: 0\n\n");
  CHECK(next_event(b) == "data: 0\n\n");
  REQUIRE(eventually([&] { return s.server.stream_count() == 2; }));

  test_client refused{s.port()};
  auto r = refused.exchange(stream_request);
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(r->body == "too many live streams open (2); retry shortly\n");
  CHECK(r->header("Retry-After") == "5");
  // The refused connection stays an ordinary one.
  auto again = refused.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(again);
  CHECK(again->status == 200);

  // Two idle ordinary connections fill the connection cap; a health check evicts one of them,
  // never a stream.
  test_client idle_one{s.port()};
  test_client health{s.port()};
  auto ok = health.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  s.feed->publish(sse_event("1"));
  CHECK(next_event(a) == "data: 1\n\n");
  CHECK(next_event(b) == "data: 1\n\n");
  CHECK(s.server.stream_count() == 2);
}

TEST_CASE("a viewer that goes away leaves the streams, and its place is free again") {
  server_options options;
  options.max_streams = 1;
  stream_server s{options};
  {
    test_client gone{s.port()};
    open_stream(gone);
    REQUIRE(eventually([&] { return s.server.stream_count() == 1; }));
  }
  REQUIRE(eventually([&] { return s.server.stream_count() == 0; }));
  test_client next{s.port()};
  open_stream(next);
  REQUIRE(eventually([&] { return s.server.stream_count() == 1; }));
}

TEST_CASE("HEAD of a stream route answers the head of an empty event stream and keeps the connection") {
  stream_server s;
  test_client client{s.port()};
  REQUIRE(client.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = client.read_reply(true);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("Content-Type") == "text/event-stream; charset=utf-8");
  CHECK(s.server.stream_count() == 0);
  auto ok = client.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("stopping the server closes its live streams and the loop closes cleanly") {
  stream_server s;
  test_client viewer{s.port()};
  open_stream(viewer);
  REQUIRE(eventually([&] { return s.server.stream_count() == 1; }));
  CHECK(s.server.stop());
  CHECK(viewer.sees_close());
  s.feed->publish(sse_event("after stop"));  // wakes nobody: the server no longer watches
  CHECK(s.feed->watchers() == 0);
}

TEST_CASE("the feed hears of its viewers: the first one asks for a frame, and after the last no stale frame is sent") {
  stream_server s;
  std::atomic<int> asked{0};
  s.feed->on_demand([&] { ++asked; });
  s.feed->publish(sse_event("old"));
  {
    test_client first{s.port()};
    open_stream(first);
    CHECK(next_event(first) == "data: old\n\n");
    REQUIRE(eventually([&] { return s.feed->viewers() == 1; }));
    CHECK(asked == 1);
  }
  REQUIRE(eventually([&] { return s.feed->viewers() == 0; }));
  test_client next{s.port()};
  open_stream(next);
  REQUIRE(eventually([&] { return asked == 2; }));
  CHECK_FALSE(next.wait_readable(200ms));  // "old" is not sent: it would be stale
  s.feed->publish(sse_event("fresh"));  // what the demand brings
  CHECK(next_event(next) == "data: fresh\n\n");
  s.feed->on_demand(nullptr);
}
