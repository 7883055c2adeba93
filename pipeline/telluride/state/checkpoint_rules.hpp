// checkpoint_rules.hpp — what the checkpoint record's encoder and decoder share
// (checkpoint_record.hpp): the magic, the id tags, the one-line errors and the header's rules.
// Internal to the state library.
#pragma once

#include "telluride/domain/expected.hpp"
#include "telluride/state/checkpoint_record.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telluride::detail {

inline constexpr std::string_view checkpoint_magic = "TLSR";
inline constexpr std::uint8_t integer_id_tag = 0;
inline constexpr std::uint8_t string_id_tag = 1;
/// Version 3's forms of a last_timestamp: its text, or a utc_timestamp's numbers.
inline constexpr std::uint8_t text_timestamp_form = 0;
inline constexpr std::uint8_t utc_timestamp_form = 1;

/// Version 4 writes a timestamp's seconds relative to the whole seconds of the record's
/// written_at_ms (rounded down): a few seconds either way, one byte instead of five.
constexpr std::int64_t whole_seconds(std::int64_t ms) noexcept {
  return ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
}
/// `seconds` relative to `base`, the difference wrapping at 2^64 (any two i64 have one).
constexpr std::int64_t relative_seconds(std::int64_t seconds, std::int64_t base) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(seconds) - static_cast<std::uint64_t>(base));
}
/// The seconds that relative_seconds(seconds, base) gave `relative`.
constexpr std::int64_t absolute_seconds(std::int64_t relative, std::int64_t base) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(relative) + static_cast<std::uint64_t>(base));
}

/// `checkpoint record: WHAT (byte AT)`.
inline error checkpoint_problem(std::string_view what, std::size_t at) {
  return error{"checkpoint record: " + std::string(what) + " (byte " + std::to_string(at) + ")"};
}

/// `checkpoint record: WHAT`.
inline error checkpoint_problem(std::string_view what) {
  return error{"checkpoint record: " + std::string(what)};
}

/// The rules of a header that encode and decode both check; none when it keeps them.
std::optional<std::string> header_rule_broken(const record_header& h);

/// The rules of a sensor's kept fields (a delta's only, and only kept_field bits) that encode
/// and decode both check; none when `kept` keeps them in a record of `kind`.
std::optional<std::string> kept_rule_broken(std::uint8_t kept, record_kind kind);

} // namespace telluride::detail
