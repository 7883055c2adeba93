// request.hpp — one parsed HTTP request, as the handler sees it.
//
// The server fills a request from the bytes on the wire (see request_parser.hpp) and hands it
// to the owner's handler by const reference. The target is already split: `path` has no query
// string and `query` has no leading '?'. Nothing here is percent-decoded except through
// `query_value`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telluride::http {

/// One header line; the name keeps the spelling the client used.
struct header_field {
  std::string name;
  std::string value;
};

/// True when `a` and `b` are equal ignoring ASCII case (header names, methods' tokens).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Decodes %XX escapes (and '+' as space when `plus_is_space`); returns nullopt for a
/// malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

struct request {
  std::string method;                 ///< "GET", "POST", ... as sent (http-parser upper-cases)
  std::string path;                   ///< "/api/sensors/l1/d2/temp", no query string
  std::string query;                  ///< "window=60&x=1", empty when absent
  std::vector<header_field> headers;  ///< in arrival order, duplicates kept
  std::string body;                   ///< exactly the body bytes (chunked encoding removed)
  unsigned short http_major = 1;
  unsigned short http_minor = 1;

  /// The value of the first header named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;

  /// The decoded value of the first `name=value` pair in the query string, or nullopt when the
  /// key is absent or its value is badly escaped. A bare `name` yields an empty string.
  std::optional<std::string> query_value(std::string_view name) const;
};

} // namespace telluride::http
