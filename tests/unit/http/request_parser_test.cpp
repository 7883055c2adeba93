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

TEST_CASE("limits: body over the maximum is 413, header block over it 431, request line over it 414") {
  parse_limits small{.max_request_line_bytes = 32, .max_header_bytes = 64, .max_body_bytes = 10};
  struct row {
    std::string wire;
    int status;  // 0: accepted whole
    std::string reason;
  };
  const row rows[] = {
    {"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", 0, ""},
    {"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413, "body over 10 bytes"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n", 0, ""},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\nabcde\r\n", 413,
     "body over 10 bytes"},
    // Request line "GET /ppp… HTTP/1.1": 14 bytes + the path's 'p's.
    {"GET /" + std::string(18, 'p') + " HTTP/1.1\r\n\r\n", 0, ""},
    {"GET /" + std::string(19, 'p') + " HTTP/1.1\r\n\r\n", 414, "request line over 32 bytes"},
    {"DELETE /" + std::string(15, 'p') + " HTTP/1.1\r\n\r\n", 0, ""},
    {"DELETE /" + std::string(16, 'p') + " HTTP/1.1\r\n\r\n", 414, "request line over 32 bytes"},
    {"GET /" + std::string(70, 'p'), 414, "request line over 32 bytes"},  // refused before the line ends
    // Header block: "X-A: " + value + CRLF is 7 bytes + the value; two lines add up.
    {"GET / HTTP/1.1\r\nX-A: " + std::string(57, 'a') + "\r\n\r\n", 0, ""},
    {"GET / HTTP/1.1\r\nX-A: " + std::string(58, 'a') + "\r\n\r\n", 431, "header block over 64 bytes"},
    {"GET / HTTP/1.1\r\nX-A: " + std::string(25, 'a') + "\r\nX-B: " + std::string(25, 'b') + "\r\n\r\n", 0, ""},
    {"GET / HTTP/1.1\r\nX-A: " + std::string(25, 'a') + "\r\nX-B: " + std::string(26, 'b') + "\r\n\r\n", 431,
     "header block over 64 bytes"},
  };
  for (const auto& [wire, status, reason] : rows) {
    CAPTURE(wire);
    request_parser parser{small};
    auto out = parser.feed(wire);
    if (status == 0) {
      CHECK(out.requests.size() == 1);
      CHECK(!parser.failure());
    } else {
      CHECK(out.requests.empty());
      REQUIRE(parser.failure());
      CHECK(parser.failure()->status == status);
      CHECK(parser.failure()->reason == reason);
    }
  }
}

TEST_CASE("the limits hold however the bytes are split") {
  parse_limits small{.max_request_line_bytes = 32, .max_header_bytes = 64, .max_body_bytes = 10};
  std::string fits = "GET /" + std::string(18, 'p') + " HTTP/1.1\r\nX-A: " + std::string(57, 'a') + "\r\n\r\n";
  std::string too_long = "GET /" + std::string(19, 'p') + " HTTP/1.1\r\n\r\n";
  request_parser accepted{small};
  std::size_t requests = 0;
  for (char c : fits)
    requests += accepted.feed(std::string_view{&c, 1}).requests.size();
  CHECK(requests == 1);
  CHECK(!accepted.failure());
  request_parser refused{small};
  for (char c : too_long)
    refused.feed(std::string_view{&c, 1});
  REQUIRE(refused.failure());
  CHECK(refused.failure()->status == 414);
}

TEST_CASE("a request target that is not UTF-8 is refused with 400") {
  for (std::string target : {"/\xff", "/a\xc3", "/\xed\xa0\x80", "/q?x=\xc0\xaf"}) {
    CAPTURE(target);
    request_parser parser;
    auto out = parser.feed("GET " + target + " HTTP/1.1\r\n\r\n");
    CHECK(out.requests.empty());
    REQUIRE(parser.failure());
    CHECK(parser.failure()->status == 400);
    CHECK(parser.failure()->reason == "request target is not valid UTF-8");
  }
  request_parser parser;
  auto out = parser.feed("GET /caf\xc3\xa9?q=%FF HTTP/1.1\r\n\r\n");  // escapes are the router's business
  REQUIRE(out.requests.size() == 1);
  CHECK(out.requests[0].req.path == "/caf\xc3\xa9");
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
