// Framing rules of request_parser, with plain strings: no sockets.
#include "telluride/http/request_parser.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace telluride::http;

TEST_CASE("a GET is split into method, path, query and headers") {
  request_parser parser;
  auto out = parser.feed("GET /api/x?a=1&b=two HTTP/1.1\r\nHost: here\r\nX-Thing: v1\r\n\r\n");
  REQUIRE(out.requests.size() == 1);
  const auto& req = out.requests[0].req;
  CHECK(req.method == "GET");
  CHECK(req.path == "/api/x");
  CHECK(req.query == "a=1&b=two");
  CHECK(req.headers.size() == 2);
  CHECK(req.header("x-thing") == "v1");
  CHECK(req.header("HOST") == "here");
  CHECK(!req.header("Missing"));
  CHECK(req.query_value("b") == "two");
  CHECK(!req.query_value("c"));
  CHECK(out.requests[0].keep_alive);
  CHECK(!parser.failure());
  CHECK(!parser.is_mid_request());
}

TEST_CASE("a request fed one byte at a time comes out whole, once") {
  request_parser parser;
  std::string wire = "POST /p HTTP/1.1\r\nContent-Length: 5\r\nX-Long-Header-Name: long value\r\n\r\nhello";
  std::size_t seen = 0;
  request last;
  for (char c : wire) {
    auto out = parser.feed(std::string_view{&c, 1});
    seen += out.requests.size();
    if (!out.requests.empty())
      last = out.requests.back().req;
  }
  CHECK(seen == 1);
  CHECK(last.body == "hello");
  CHECK(last.header("x-long-header-name") == "long value");
}

TEST_CASE("pipelined requests come out in order from one feed") {
  request_parser parser;
  auto out = parser.feed("GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nabGET /3 HTTP/1.1\r\n\r\nGET /4");
  REQUIRE(out.requests.size() == 3);
  CHECK(out.requests[0].req.path == "/1");
  CHECK(out.requests[1].req.body == "ab");
  CHECK(out.requests[2].req.path == "/3");
  CHECK(parser.is_mid_request());
  auto rest = parser.feed(" HTTP/1.1\r\n\r\n");
  REQUIRE(rest.requests.size() == 1);
  CHECK(rest.requests[0].req.path == "/4");
}

TEST_CASE("keep-alive follows the HTTP version and the Connection header") {
  struct row {
    const char* wire;
    bool keep_alive;
  };
  for (auto [wire, keep_alive] : {row{"GET / HTTP/1.1\r\n\r\n", true},
                                  row{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
                                  row{"GET / HTTP/1.0\r\n\r\n", false},
                                  row{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true}}) {
    CAPTURE(wire);
    request_parser parser;
    auto out = parser.feed(wire);
    REQUIRE(out.requests.size() == 1);
    CHECK(out.requests[0].keep_alive == keep_alive);
  }
}

TEST_CASE("nothing after a closing request is parsed") {
  request_parser parser;
  auto out = parser.feed("GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\ngarbage");
  CHECK(out.requests.size() == 1);
  CHECK(!parser.failure());
  CHECK(parser.feed("GET /c HTTP/1.1\r\n\r\n").requests.empty());
}

TEST_CASE("a chunked body is decoded") {
  request_parser parser;
  auto out = parser.feed("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  REQUIRE(out.requests.size() == 1);
  CHECK(out.requests[0].req.body == "abcde");
}

TEST_CASE("malformed input fails with 400, keeping the requests before it") {
  request_parser parser;
  auto out = parser.feed("GET /ok HTTP/1.1\r\n\r\nGET /bad HTTP/1.1\r\nNo colon here\r\n\r\n");
  CHECK(out.requests.size() == 1);
  REQUIRE(parser.failure());
  CHECK(parser.failure()->status == 400);
  CHECK(parser.feed("GET /ok HTTP/1.1\r\n\r\n").requests.empty());
}

TEST_CASE("limits: body over the maximum is 413, header section over it is 431") {
  parse_limits small{.max_header_bytes = 64, .max_body_bytes = 10};
  {
    request_parser parser{small};
    parser.feed("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
    REQUIRE(parser.failure());
    CHECK(parser.failure()->status == 413);
  }
  {
    request_parser parser{small};
    parser.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n");
    REQUIRE(parser.failure());
    CHECK(parser.failure()->status == 413);
  }
  {
    request_parser parser{small};
    auto out = parser.feed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
    CHECK(out.requests.size() == 1);
    CHECK(!parser.failure());
  }
  {
    request_parser parser{small};
    parser.feed("GET / HTTP/1.1\r\nX-A: " + std::string(60, 'a') + "\r\n\r\n");
    REQUIRE(parser.failure());
    CHECK(parser.failure()->status == 431);
  }
  {
    request_parser parser{small};
    parser.feed("GET /" + std::string(70, 'p'));
    REQUIRE(parser.failure());
    CHECK(parser.failure()->status == 431);
  }
}

TEST_CASE("Expect: 100-continue asks for an interim response once") {
  request_parser parser;
  auto head = parser.feed("POST / HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  CHECK(head.send_continue);
  CHECK(!parser.feed("ab").send_continue);
  auto rest = parser.feed("cd");
  CHECK(!rest.send_continue);
  REQUIRE(rest.requests.size() == 1);
  CHECK(rest.requests[0].req.body == "abcd");
  request_parser whole;
  CHECK(!whole.feed("POST / HTTP/1.1\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\nx").send_continue);
}

TEST_CASE("percent_decode decodes escapes and rejects broken ones") {
  CHECK(percent_decode("a%20b%2Fc") == "a b/c");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(!percent_decode("bad%2"));
  CHECK(!percent_decode("bad%zz"));
  CHECK(!percent_decode("%"));
}
