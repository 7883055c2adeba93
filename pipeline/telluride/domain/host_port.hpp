// host_port.hpp — a `HOST:PORT` listen address, as `http_listen` and `--http` take it.
#pragma once

#include "telluride/domain/expected.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace telluride {

struct host_port {
  std::string host;  ///< a host name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0;

  bool operator==(const host_port&) const = default;
};

/// Parses `HOST:PORT`: HOST is a host name (letters, digits, `-`, `.`, `_`), a dotted IPv4
/// address, or an IPv6 address in brackets (`[::1]:9464`); PORT is decimal 0..65535, where 0
/// asks the system for any free port. The error says what was expected and what was given.
expected<host_port> parse_host_port(std::string_view text);

/// `127.0.0.1:9464`, or `[::1]:9464` for IPv6.
std::string to_string(const host_port& address);

} // namespace telluride
