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

/// A reading's timestamp text, kept inline: one reading per message, so a heap string here
/// would cost an allocation per message. Holds up to `capacity` characters, more than the
/// longest text `is_iso8601_date_time` accepts (35: `2021-02-12T01:18:51.123456789+05:30`).
class timestamp_text {
public:
  static constexpr std::size_t capacity = 39;

  timestamp_text() = default;
  /// Throws std::length_error for text longer than `capacity`.
  timestamp_text(std::string_view text) { assign(text); }
  timestamp_text(const char* text) : timestamp_text(std::string_view{text}) {}
  timestamp_text(const std::string& text) : timestamp_text(std::string_view{text}) {}

  void assign(std::string_view text);
  std::string_view view() const noexcept { return {chars_, size_}; }
  operator std::string_view() const noexcept { return view(); }
  std::string str() const { return std::string{view()}; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

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
  char chars_[capacity] = {};
  std::uint8_t size_ = 0;
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

} // namespace telluride
