// timestamp.hpp — the two timestamp forms a reading may carry, and the text Telluride keeps.
//
// Readings carry either ISO 8601 text, kept exactly as given, or epoch milliseconds, turned
// into ISO 8601 UTC text with milliseconds. Pure functions: no clock is read here.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace telluride {

/// A UTC timestamp of the form `YYYY-MM-DDThh:mm:ss[.f]Z` as numbers, from which the text
/// comes back exactly: checkpoints keep the timestamps of this form (the simulator's and most
/// devices') in ~10 bytes instead of ~28 (docs/checkpoints.md).
struct utc_timestamp {
  std::int64_t seconds = 0;    ///< since 1970-01-01T00:00:00Z
  std::uint32_t fraction = 0;  ///< the fraction's digits as a number (`.0500` is 500)
  std::uint8_t digits = 0;     ///< how many fraction digits were written: 0..9 (0: no fraction)

  bool operator==(const utc_timestamp&) const = default;
};

/// A reading's timestamp text, kept inline: one reading per message, so a heap string here
/// would cost an allocation per message. Holds up to `capacity` characters, more than the
/// longest text `is_iso8601_date_time` accepts (35: `2021-02-12T01:18:51.123456789+05:30`).
///
/// Text of the form parse_utc_timestamp reads (at most 30 characters) also keeps its seconds,
/// in bytes the text leaves free: a checkpoint writes such a timestamp as numbers
/// (docs/checkpoints.md), and utc() gives them without reading the date again, so a reading's
/// timestamp is read once, when it arrives. Still 40 bytes: the sensor table keeps one per sensor.
class timestamp_text {
public:
  static constexpr std::size_t capacity = 39;

  timestamp_text() = default;
  /// Throws std::length_error for text longer than `capacity`.
  timestamp_text(std::string_view text) { assign(text); }
  timestamp_text(const char* text) : timestamp_text(std::string_view{text}) {}
  timestamp_text(const std::string& text) : timestamp_text(std::string_view{text}) {}

  /// Throws std::length_error for text longer than `capacity`.
  void assign(std::string_view text);
  /// The same, for a caller that read the text already: `utc` must be what
  /// parse_utc_timestamp(text) gives.
  void assign(std::string_view text, const std::optional<utc_timestamp>& utc);
  std::string_view view() const noexcept { return {chars_, size()}; }
  operator std::string_view() const noexcept { return view(); }
  std::string str() const { return std::string{view()}; }
  std::size_t size() const noexcept { return static_cast<std::size_t>(size_ & size_bits); }
  bool empty() const noexcept { return size() == 0; }
  /// parse_utc_timestamp(view()), kept from when the text was set.
  std::optional<utc_timestamp> utc() const noexcept;

  friend bool operator==(const timestamp_text& a, const timestamp_text& b) noexcept {
    return a.view() == b.view();
  }
  friend bool operator==(const timestamp_text& a, std::string_view b) noexcept {
    return a.view() == b;
  }
  friend bool operator==(const timestamp_text& a, const char* b) noexcept {
    return a.view() == std::string_view{b};
  }
  friend bool operator==(const timestamp_text& a, const std::string& b) noexcept {
    return a.view() == std::string_view{b};
  }
  friend std::ostream& operator<<(std::ostream& os, const timestamp_text& t) {
    return os << t.view();
  }

private:
  static constexpr std::uint8_t size_bits = 0x3f;    // the text's size; above it, the flag
  static constexpr std::uint8_t has_utc_flag = 0x80;  // the text is of the utc form
  static constexpr std::size_t longest_utc_text = 30;  // `YYYY-MM-DDThh:mm:ss.fffffffffZ`
  static constexpr std::size_t seconds_at = capacity - sizeof(std::int64_t);
  static_assert(seconds_at >= longest_utc_text, "the seconds lie past the longest text of the utc form");

  char chars_[capacity] = {};
  std::uint8_t size_ = 0;  // and has_utc_flag
};

/// True when `text` is an ISO 8601 extended-format date-time, checked loosely but with a real
/// calendar: `YYYY-MM-DD`, then `T` (or `t` or a space), then `hh:mm`, optionally `:ss`
/// (00..60, for leap seconds) and a fraction of 1..9 digits after `.` or `,`, then optionally a
/// zone: `Z`, `z`, `±hh`, `±hhmm` or `±hh:mm`. Month 1..12, day within the month (leap years
/// counted), hour 00..23 (or `24:00[:00]`), minute 00..59. Basic format (`20210212T011851Z`)
/// and date-only text are rejected.
bool is_iso8601_date_time(std::string_view text) noexcept;

/// `ms` after 1970-01-01T00:00:00Z as `YYYY-MM-DDThh:mm:ss.mmmZ`, e.g. 1613092731838 →
/// `2021-02-12T01:18:51.838Z`. Negative values count back from 1970. Empty when the year
/// falls outside 0000..9999 (ms outside -62167219200000..253402300799999).
std::optional<std::string> iso8601_from_epoch_ms(std::int64_t ms);
/// The same text as a timestamp_text, with its numbers.
std::optional<timestamp_text> timestamp_from_epoch_ms(std::int64_t ms) noexcept;


/// `text` as a utc_timestamp when it has exactly that form: upper-case `T` and `Z`, seconds
/// 00..59, 1..9 fraction digits after `.` when there is a fraction, year 0000..9999, a real
/// calendar date; none for any other text (offsets, `t`, a space, `,`, no seconds, a leap
/// second...).
std::optional<utc_timestamp> parse_utc_timestamp(std::string_view text) noexcept;

/// The text of `t`, the inverse of parse_utc_timestamp; none when `t` is out of its range
/// (digits above 9, a fraction with more digits than `digits`, a year outside 0000..9999).
std::optional<timestamp_text> utc_timestamp_text(const utc_timestamp& t) noexcept;

} // namespace telluride
