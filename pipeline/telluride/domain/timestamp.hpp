// timestamp.hpp — the two timestamp forms a reading may carry, and the text Telluride keeps.
//
// Readings carry either ISO 8601 text, kept exactly as given, or epoch milliseconds, turned
// into ISO 8601 UTC text with milliseconds. Pure functions: no clock is read here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telluride {

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
