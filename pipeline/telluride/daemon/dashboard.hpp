// dashboard.hpp — the live dashboard served at GET / (docs/http.md, GET /): one HTML page, its
// style sheet and its script, kept readable in daemon/dashboard/ and compiled into the binary
// by cmake/embed_assets.cmake. The page updates itself from GET /api/stream.
#pragma once

#include <span>
#include <string_view>

namespace telluride {

/// One file of the page: the path it is served at, its Content-Type, its bytes.
struct embedded_asset {
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
};

/// The page's files; "/" is the page itself.
std::span<const embedded_asset> dashboard_assets();

} // namespace telluride
