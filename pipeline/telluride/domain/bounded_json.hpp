// bounded_json.hpp — JSON text from outside, parsed only within limits.
//
// Reconfigurations (control queue, POST /api/config) and config files are parsed here, never
// with a bare `json::parse`: the text must be at most `max_bytes`, valid UTF-8, nested at most
// `max_depth` containers deep, and give no object key twice (JSON allows duplicates and
// nlohmann keeps the last one, which would silently apply `{"k":0,"k":4}`). The checks run
// before or while the parser builds anything, and nothing recurses on the input's depth, so a
// 100,000-deep array is one short error instead of a stack overflow. Errors are one line of
// valid UTF-8 that reads after the name of what was parsed: "reconfiguration " + message.
#pragma once

#include "telluride/domain/expected.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

namespace telluride {

struct json_limits {
  std::size_t max_bytes = 64 * 1024;
  std::size_t max_depth = 64;  ///< containers inside one another; a flat object is depth 1
};

/// The JSON value of `text`, in the order it was written, or the first limit or syntax
/// problem: "is larger than 65536 bytes (got 70000)", "is not valid UTF-8 (byte 0xff at
/// offset 12)", "is nested deeper than 64 levels", "gives the key \"a\" twice", "is not valid
/// JSON: parse error at line 1, column 2: ...".
expected<nlohmann::ordered_json> parse_bounded_json(std::string_view text, const json_limits& limits);

} // namespace telluride
