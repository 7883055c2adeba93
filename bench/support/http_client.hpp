// http_client.hpp — one blocking HTTP/1.1 request to a local server, for benchmarks that
// watch a daemon through its HTTP API (GET /metrics, POST /api/config).
#pragma once

#include "causeway/expected.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct http_reply {
  int status = 0;
  std::string body;
};

struct http_call {
  std::string method{"GET"};
  std::string path{"/"};
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{5000};  ///< for connecting, and for each read or write
};

/// Sends `call` to 127.0.0.1:`port` on a fresh connection (Connection: close) and reads the
/// whole reply (Content-Length, or until the server closes). Errors name the step.
causeway::expected<http_reply> http_request(std::uint16_t port, const http_call& call);

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick), 0 on failure.
std::uint16_t free_local_port();

/// The value of the first sample of `metric` (its name with any labels, exactly as written)
/// in Prometheus text, or -1 when absent.
double prometheus_value(const std::string& text, const std::string& metric);

} // namespace bench
