// json_text.hpp — appends JSON tokens to a string, for the messages Telluride publishes.
//
// Aggregates and alerts are written by hand rather than through nlohmann::json: the fields
// keep the contract's order and a message costs a fraction of the time (see the tests).
// Doubles use the shortest text that reads back to the same double (std::to_chars).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace telluride {

/// Appends `text` as a JSON string: quoted; `"`, `\` and control characters escaped. Bytes
/// >= 0x80 are copied as they are, so valid UTF-8 stays valid UTF-8.
void append_json_string(std::string& out, std::string_view text);

/// Appends the shortest round-trip form of `x` (`99.0263`, `1e+21`, `-0`); `null` when x is
/// NaN or infinite, since JSON has no such numbers.
void append_json_number(std::string& out, double x);

/// Appends an integer in decimal.
void append_json_integer(std::string& out, std::int64_t x);
void append_json_unsigned(std::string& out, std::uint64_t x);

} // namespace telluride
