// The size limits of docs/http.md at their exact boundaries, and bad requests of every kind:
// each gets its 4xx with a one-line reason, the connection closes, and the server goes on serving.
#include "test_client.hpp"
#include "test_server.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace telluride::http;
using namespace telluride::http::testing;

namespace {

constexpr std::size_t limit_16k = 16 * 1024;
constexpr std::size_t limit_1m = 1024 * 1024;

// "GET /hello?aaa… HTTP/1.1" whose request line (without CRLF) is `length` bytes.
std::string request_line_of(std::size_t length) {
  std::string line = "GET /hello? HTTP/1.1";
  line.insert(11, std::string(length - line.size(), 'a'));
  return line;
}

// "Host: x\r\nX-Fill: vvv…\r\n": a header block of `length` bytes.
std::string header_block_of(std::size_t length) {
  std::string block = "Host: x\r\nX-Fill: \r\n";
  block.insert(17, std::string(length - block.size(), 'v'));
  return block;
}

// Expects one refusal with `status` and `reason`, then the close.
void expect_refusal(test_client& client, int status, const std::string& reason) {
  auto r = client.read_reply();
  REQUIRE(r);
  CHECK(r->status == status);
  CHECK(r->body == reason + "\n");
  CHECK(r->header("Connection") == "close");
  CHECK(client.sees_close());
}

} // namespace

TEST_CASE("a request line of 16 KiB passes and one byte more gets 414") {
  test_server ts;
  REQUIRE(request_line_of(limit_16k).size() == limit_16k);
  {
    test_client client{ts.port()};
    auto r = client.exchange(request_line_of(limit_16k) + "\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "hello world\n");
  }
  {
    test_client client{ts.port()};
    REQUIRE(client.send(request_line_of(limit_16k + 1) + "\r\nHost: x\r\n\r\n"));
    expect_refusal(client, 414, "request line over 16384 bytes");
  }
  {
    // Refused while the target still arrives: a 1 MiB target is never buffered whole.
    test_client client{ts.port()};
    REQUIRE(client.send("GET /" + std::string(20'000, 'u')));
    expect_refusal(client, 414, "request line over 16384 bytes");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("a header block of 16 KiB passes and one byte more gets 431") {
  test_server ts;
  REQUIRE(header_block_of(limit_16k).size() == limit_16k);
  {
    test_client client{ts.port()};
    auto r = client.exchange("GET /hello HTTP/1.1\r\n" + header_block_of(limit_16k) + "\r\n");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  {
    test_client client{ts.port()};
    REQUIRE(client.send("GET /hello HTTP/1.1\r\n" + header_block_of(limit_16k + 1) + "\r\n"));
    expect_refusal(client, 431, "header block over 16384 bytes");
  }
  {
    // Many small headers count the same as one large one.
    test_client client{ts.port()};
    std::string headers;
    for (int i = 0; i < 200; ++i)
      headers += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'h') + "\r\n";
    REQUIRE(client.send("GET /hello HTTP/1.1\r\n" + headers + "\r\n"));
    expect_refusal(client, 431, "header block over 16384 bytes");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("a body of 1 MiB passes and one byte more gets 413, by Content-Length or chunked") {
  test_server ts;
  {
    test_client client{ts.port()};
    std::string body(limit_1m, 'x');
    auto r = client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n" + body);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.size() == limit_1m);
  }
  {
    // Refused on the headers alone, while the client is still sending the body.
    test_client client{ts.port()};
    REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n"));
    REQUIRE(client.send(std::string(64 * 1024, 'x')));
    expect_refusal(client, 413, "body over 1048576 bytes");
  }
  {
    test_client client{ts.port()};
    std::string chunk = "100000\r\n" + std::string(limit_1m, 'y') + "\r\n";
    auto r = client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk
                             + "0\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.size() == limit_1m);
  }
  {
    test_client client{ts.port()};
    std::string chunk = "100000\r\n" + std::string(limit_1m, 'y') + "\r\n";
    REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk));
    client.send("1\r\nz\r\n0\r\n\r\n");
    expect_refusal(client, 413, "body over 1048576 bytes");
  }
  CHECK(ts.server.stop());
}

TEST_CASE("bad requests of every kind get their 4xx and never stop the server") {
  struct row {
    std::string wire;
    int status;
    std::string reason;
    bool closes = true;  // false: the route table refused it, the framing is intact
  };
  const row rows[] = {
    {"GET /hello HTTP/1.1\r\nHost x\r\n\r\n", 400, "invalid character in header"},
    {"BLAH\r\n\r\n", 400, "invalid HTTP method"},
    {"GET /hello HTTP/9.9.9\r\n\r\n", 400, "invalid HTTP version"},
    {"GET /hello HTTP/10.1\r\n\r\n", 400, "invalid HTTP version"},
    {"CONNECT example.com:443 HTTP/1.1\r\n\r\n", 400, "bad request target"},
    {"GET /hello HTTP/1.1\r\nX-Bad\x01Name: v\r\n\r\n", 400, "invalid character in header"},
    {"GET /hello HTTP/1.1\r\nX-Bad: a\x01v\r\n\r\n", 400, "invalid character in header"},
    {"GET /\xff\xfe HTTP/1.1\r\n\r\n", 400, "request target is not valid UTF-8"},
    {"GET /api/sensors/%ff/d/s HTTP/1.1\r\n\r\n", 400, "bad path: a segment has a bad percent escape or is not UTF-8",
     false},
    {"GET /api/sensors/%zz/d/s HTTP/1.1\r\n\r\n", 400, "bad path: a segment has a bad percent escape or is not UTF-8",
     false},
    {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "invalid character in chunk size header"},
    {"POST /echo HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
     "invalid character in content-length header"},
    {"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "invalid character in content-length header"},
    {"POST /echo HTTP/1.1\r\nContent-Length: 1000000000000000000\r\n\r\n", 413, "body over 1048576 bytes"},
    {"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400,
     "unexpected content-length header"},
  };
  test_server ts;
  for (const auto& [wire, status, reason, closes] : rows) {
    CAPTURE(wire);
    test_client client{ts.port()};
    REQUIRE(client.send(wire));
    auto r = client.read_reply();
    REQUIRE(r);
    CHECK(r->status == status);
    CHECK(r->body == reason + "\n");
    CHECK(r->header("Connection") == (closes ? "close" : "keep-alive"));
    if (closes)
      CHECK(client.sees_close());
    else
      CHECK(client.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").value_or(reply{}).status == 200);
  }
  test_client after{ts.port()};
  auto r = after.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(ts.server.stop());
}
