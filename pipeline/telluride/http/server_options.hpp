// server_options.hpp — how the HTTP server listens and what it tolerates from clients.
#pragma once

#include "telluride/http/request_parser.hpp"

#include <chrono>
#include <cstddef>
#include <string>

namespace telluride::http {

struct server_options {
  /// `HOST:PORT` (see listen_address.hpp); port 0 picks a free port.
  std::string listen = "127.0.0.1:9464";
  /// A connection with no bytes read or written for this long is closed.
  std::chrono::milliseconds idle_timeout{30'000};
  /// Connections beyond this many are closed as soon as they are accepted.
  std::size_t max_connections = 256;
  /// Header (431) and body (413) limits.
  parse_limits limits{};
  /// After a response that ends the connection, the client's remaining input is read and
  /// dropped for at most this long, so the kernel does not reset the connection before the
  /// client has read the response.
  std::chrono::milliseconds linger_timeout{2'000};
  /// Reading from a client pauses while this many response bytes wait to be sent to it.
  std::size_t max_queued_response_bytes = 4 * 1024 * 1024;
};

} // namespace telluride::http
