// Parsing HOST:PORT without a resolver.
#include "telluride/http/listen_address.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>

using namespace telluride::http;

TEST_CASE("numeric IPv4, bracketed IPv6 and localhost are accepted") {
  auto v4 = parse_listen_address("127.0.0.1:9464");
  REQUIRE(std::holds_alternative<listen_address>(v4));
  CHECK(std::get<listen_address>(v4).port == 9464);
  CHECK(std::get<listen_address>(v4).addr.ss_family == AF_INET);

  auto v6 = parse_listen_address("[::1]:0");
  REQUIRE(std::holds_alternative<listen_address>(v6));
  CHECK(std::get<listen_address>(v6).host == "::1");
  CHECK(std::get<listen_address>(v6).addr.ss_family == AF_INET6);

  auto local = parse_listen_address("localhost:80");
  REQUIRE(std::holds_alternative<listen_address>(local));
  CHECK(std::get<listen_address>(local).port == 80);
}

TEST_CASE("bad addresses give a reason") {
  struct row {
    const char* text;
    const char* reason;
  };
  for (auto [text, reason] : {row{"9464", "expected HOST:PORT"},
                              row{"127.0.0.1:", "expected HOST:PORT"},
                              row{":9464", "expected HOST:PORT"},
                              row{"127.0.0.1:65536", "port must be in 0..65535"},
                              row{"127.0.0.1:-1", "port must be in 0..65535"},
                              row{"127.0.0.1:80x", "port must be in 0..65535"},
                              row{"300.1.1.1:80", "host must be a numeric IP address or localhost"},
                              row{"example.com:80", "host must be a numeric IP address or localhost"},
                              row{"::1:80", "an IPv6 host needs brackets, as in [::1]:9464"}}) {
    CAPTURE(text);
    auto parsed = parse_listen_address(text);
    REQUIRE(std::holds_alternative<error>(parsed));
    CHECK(std::get<error>(parsed).message == reason);
  }
}
