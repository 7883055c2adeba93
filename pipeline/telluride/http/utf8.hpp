// utf8.hpp — whether bytes from a client are valid UTF-8, before they reach a handler that
// may echo them (a JSON error naming a sensor, a log line).
#pragma once

#include <string_view>

namespace telluride::http {

/// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past
/// U+10FFFF). ASCII is valid UTF-8.
bool is_valid_utf8(std::string_view text) noexcept;

} // namespace telluride::http
