// listen_address.hpp — the `HOST:PORT` the server binds, parsed and resolved without DNS.
//
// Accepted hosts: a numeric IPv4 address (`127.0.0.1`, `0.0.0.0`), a bracketed numeric IPv6
// address (`[::1]`), or `localhost` (= 127.0.0.1). Port 0 asks the kernel for a free port.
// Names are not looked up: a listen address must not depend on a resolver at start-up.
#pragma once

#include "telluride/http/error.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace telluride::http {

struct listen_address {
  std::string host;        ///< as written, without brackets
  std::uint16_t port = 0;
  sockaddr_storage addr{}; ///< ready for bind()
};

/// Parses `text`. The error is a reason without the address (the caller names it):
/// `expected HOST:PORT`, `port must be in 0..65535`, `host must be a numeric IP or localhost`.
std::variant<listen_address, error> parse_listen_address(std::string_view text);

} // namespace telluride::http
