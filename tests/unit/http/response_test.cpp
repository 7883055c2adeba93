// Response bytes on the wire.
#include "telluride/http/response.hpp"

#include <doctest/doctest.h>

using namespace telluride::http;

TEST_CASE("a response carries status line, Content-Type, Content-Length and Connection") {
  auto wire = serialize(response::text(200, "hello"), {.keep_alive = true, .include_body = true});
  CHECK(wire == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n"
                "Connection: keep-alive\r\n\r\nhello");
}

TEST_CASE("extra headers follow in order and framing or CR/LF-injecting ones are dropped") {
  auto res = response::json(404, "{}");
  res.headers = {{"Allow", "GET"},
                 {"Content-Length", "99"},
                 {"Connection", "keep-alive"},
                 {"X-Evil", "a\r\nSet-Cookie: x"},
                 {"Bad:Name", "v"},
                 {"Cache-Control", "no-store"}};
  auto wire = serialize(res, {.keep_alive = false, .include_body = true});
  CHECK(wire == "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                "Connection: close\r\nAllow: GET\r\nCache-Control: no-store\r\n\r\n{}");
}

TEST_CASE("HEAD framing keeps the length and drops the body") {
  auto wire = serialize(response::text(200, "hello"), {.keep_alive = true, .include_body = false});
  CHECK(wire.find("Content-Length: 5\r\n") != std::string::npos);
  CHECK(wire.ends_with("\r\n\r\n"));
}

TEST_CASE("204 has neither body nor Content-Length") {
  auto no_content = serialize(response::text(204, "ignored"), {});
  CHECK(no_content == "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
}

TEST_CASE("a status outside 100..999 is sent as 500") {
  auto invalid = serialize(response::text(42, "x"), {});
  CHECK(invalid.starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
}
