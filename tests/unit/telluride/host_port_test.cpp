#include "telluride/domain/host_port.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using telluride::host_port;
using telluride::parse_host_port;

TEST_CASE("HOST:PORT parses host names, IPv4 and bracketed IPv6") {
  const std::vector<std::pair<std::string, host_port>> cases = {
      {"127.0.0.1:9464", {"127.0.0.1", 9464}},
      {"localhost:80", {"localhost", 80}},
      {"0.0.0.0:0", {"0.0.0.0", 0}},
      {"my-host.example_1:65535", {"my-host.example_1", 65535}},
      {"[::1]:9464", {"::1", 9464}},
  };
  for (const auto& [text, address] : cases) {
    CAPTURE(text);
    const auto parsed = parse_host_port(text);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == address);
    CHECK(to_string(*parsed) == text);
  }
}

TEST_CASE("anything else is rejected, quoting what was given") {
  for (std::string text : {"", "9464", ":9464", "localhost", "localhost:", "localhost:65536",
                           "localhost:-1", "localhost:80x", "local host:80", "::1:80",
                           "[::1:80", "[]:80", "[xyz]:80", "[fe80::1%]:1", "http://localhost:80"}) {
    CAPTURE(text);
    const auto parsed = parse_host_port(text);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.err().message ==
          "expected HOST:PORT (e.g. 127.0.0.1:9464), got \"" + text + "\"");
  }
}
