// json_id.hpp — an id as a reading carried it: a JSON integer or a JSON string.
//
// Sensors are named by ids that producers send either as numbers (`10`) or as strings
// (`"line-a"`). Outputs echo each id with the JSON type it came in, so the type is part of
// the id: `10` and `"10"` are different ids.
#pragma once

#include "telluride/domain/hash.hpp"
#include "telluride/domain/json_text.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace telluride {

struct json_id {
  std::variant<std::int64_t, std::string> value;

  bool is_integer() const noexcept { return value.index() == 0; }
  /// Precondition: `is_integer()`.
  std::int64_t integer() const { return std::get<0>(value); }
  /// Precondition: `!is_integer()`.
  const std::string& text() const { return std::get<1>(value); }

  bool operator==(const json_id&) const = default;
};

/// Stable 64-bit hash; integer and string ids hash in separate domains.
inline std::uint64_t hash_value(const json_id& id) noexcept {
  if (id.is_integer())
    return hash_integer(static_cast<std::uint64_t>(id.integer()), 1);
  return hash_bytes(id.text(), 2);
}

/// Appends the id as JSON: `10` or `"line-a"`.
inline void append_json(std::string& out, const json_id& id) {
  if (id.is_integer())
    append_json_integer(out, id.integer());
  else
    append_json_string(out, id.text());
}

/// The id for one segment of a URL such as `/api/sensors/10/100/1000`: an integer when the
/// text is a canonical decimal integer that fits 64 bits (`10`, `-3`; not `010` or `+3`),
/// otherwise the text as a string id.
inline json_id json_id_from_text(std::string_view text) {
  std::int64_t number = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  const auto [end, status] = std::from_chars(first, last, number);
  const std::string_view digits = text.substr(text.starts_with('-') ? 1 : 0);
  const bool is_canonical = !digits.empty() && (digits == "0" || digits[0] != '0');
  if (status == std::errc{} && end == last && is_canonical && text != "-0")
    return json_id{number};
  return json_id{std::string(text)};
}

/// nlohmann::json conversion: the id with its JSON type.
inline void to_json(nlohmann::json& out, const json_id& id) {
  if (id.is_integer())
    out = id.integer();
  else
    out = id.text();
}

} // namespace telluride
