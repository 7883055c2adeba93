// The server as a client sees it: routing, framing, keep-alive and pipelining over real sockets.
#include "test_client.hpp"
#include "test_server.hpp"

#include <doctest/doctest.h>

using namespace telluride::http;
using namespace telluride::http::testing;

TEST_CASE("GET answers 200 with the exact body and Content-Length") {
  test_server ts;
  {
    test_client client{ts.port()};
    REQUIRE(client.is_connected());
    auto r = client.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "hello world\n");
    CHECK(r->header("Content-Length") == "12");
    CHECK(r->header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(r->header("Connection") == "keep-alive");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("an unknown path answers 404") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto r = client.exchange("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(r->body == "not found\n");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("a known path with the wrong method answers 405 with Allow") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto r = client.exchange("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->header("Allow") == "GET, HEAD");
    auto post = client.exchange("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(post);
    CHECK(post->status == 405);
    CHECK(post->header("Allow") == "POST");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("path parameters reach the handler percent-decoded") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto r = client.exchange("GET /api/sensors/line-1/dev%202/temp HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "line-1|dev 2|temp");
    auto short_path = client.exchange("GET /api/sensors/line-1/dev HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(short_path);
    CHECK(short_path->status == 404);
  }
  CHECK(ts.server.stop());
}

TEST_CASE("the query string is split off the path") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto r = client.exchange("GET /query?a=1&x=hello%21 HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "/query?a=1&x=hello%21 x=hello!");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("a POST body arrives exactly, also when split across several writes") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto r = client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"a\":[1,2,3]}");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "{\"a\":[1,2,3]}");
    CHECK(r->header("Content-Type") == "application/json");

    std::string body(100'000, 'z');
    body[0] = 'A';
    body.back() = 'Z';
    std::string message = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size())
                          + "\r\n\r\n" + body;
    // Cut inside the request line, the headers and the body, pausing so each piece is its own read.
    for (std::size_t cut : {5UL, 30UL, 60UL, 40'000UL}) {
      REQUIRE(client.send(message.substr(0, cut)));
      message.erase(0, cut);
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    REQUIRE(client.send(message));
    auto big = client.read_reply();
    REQUIRE(big);
    CHECK(big->status == 200);
    CHECK(big->body == body);
  }
  CHECK(ts.server.stop());
}

TEST_CASE("a chunked POST body is reassembled") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto r = client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "hello world");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("two requests share one keep-alive connection") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto first = client.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    auto second = client.exchange("GET /api/sensors/a/b/c HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->body == "hello world\n");
    CHECK(second->body == "a|b|c");
    CHECK(ts.server.connection_count() == 1);
  }
  CHECK(ts.server.stop());
}

TEST_CASE("pipelined requests are answered in order") {
  test_server ts;
  {
    test_client client{ts.port()};
    REQUIRE(client.send("GET /api/sensors/1/1/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
                        "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /api/sensors/2/2/2 HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto a = client.read_reply();
    auto b = client.read_reply();
    auto c = client.read_reply();
    auto d = client.read_reply();
    REQUIRE((a && b && c && d));
    CHECK(a->body == "1|1|1");
    CHECK(b->body == "body");
    CHECK(c->status == 404);
    CHECK(d->body == "2|2|2");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("Connection: close is honoured, and HTTP/1.0 closes unless it asks for keep-alive") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto r = client.exchange("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                             "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->header("Connection") == "close");
    CHECK(client.sees_close());  // the pipelined second request is not answered
  }
  {
    test_client client{ts.port()};
    auto r = client.exchange("GET /hello HTTP/1.0\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->header("Connection") == "close");
    CHECK(client.sees_close());
  }
  {
    test_client client{ts.port()};
    auto r = client.exchange("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    REQUIRE(r);
    CHECK(r->header("Connection") == "keep-alive");
    auto again = client.exchange("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    REQUIRE(again);
    CHECK(again->status == 200);
  }
  CHECK(ts.server.stop());
}

TEST_CASE("HEAD gets the GET route's headers and no body") {
  test_server ts;
  {
    test_client client{ts.port()};
    REQUIRE(client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = client.read_reply(true);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->header("Content-Length") == "12");
    // The next response must follow directly: no stray body bytes in between.
    r = client.exchange("GET /api/sensors/a/b/c HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->body == "a|b|c");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("Expect: 100-continue gets an interim response before the body is sent") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto interim = client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    REQUIRE(interim);
    CHECK(interim->status == 100);
    auto r = client.exchange("abc");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "abc");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("POST /api/config needs the right bearer token") {
  test_server ts;
  {
    test_client client{ts.port()};
    auto missing = client.exchange("POST /api/config HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    auto wrong = client.exchange("POST /api/config HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3creT\r\n"
                                 "Content-Length: 2\r\n\r\n{}");
    auto right = client.exchange("POST /api/config HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
                                 "Content-Length: 2\r\n\r\n{}");
    REQUIRE((missing && wrong && right));
    CHECK(missing->status == 401);
    CHECK(wrong->status == 401);
    CHECK(right->status == 200);
  }
  CHECK(ts.server.stop());
}
