#include "telluride/domain/timestamp.hpp"

#include <cstring>
#include <stdexcept>

namespace telluride {

namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

/// Reads `count` digits at `pos` into `out`; false when any is not a digit or text ends.
bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) noexcept {
  if (pos + count > text.size())
    return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(text[i]))
      return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool is_leap_year(int year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) noexcept {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/// The zone suffix at `pos`: nothing, `Z`, `±hh`, `±hhmm` or `±hh:mm`.
bool is_zone(std::string_view text, std::size_t pos) noexcept {
  if (pos == text.size())
    return true;
  if (text[pos] == 'Z' || text[pos] == 'z')
    return pos + 1 == text.size();
  if (text[pos] != '+' && text[pos] != '-')
    return false;
  int hours = 0;
  int minutes = 0;
  if (!read_digits(text, pos + 1, 2, hours) || hours > 23)
    return false;
  pos += 3;
  if (pos == text.size())
    return true;
  if (text[pos] == ':')
    ++pos;
  return read_digits(text, pos, 2, minutes) && minutes <= 59 && pos + 2 == text.size();
}

/// Days since 1970-01-01 → civil date (Howard Hinnant's `civil_from_days`).
void civil_from_days(std::int64_t days, int& year, int& month, int& day) noexcept {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;
  day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  year = static_cast<int>(year_of_era + era * 400 + (month <= 2 ? 1 : 0));
}

/// Civil date → days since 1970-01-01 (the inverse of civil_from_days, after the same
/// derivation by Howard Hinnant).
std::int64_t days_from_civil(int year, int month, int day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const auto day_of_year = static_cast<unsigned>((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1);
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

constexpr std::int64_t seconds_per_day = 86400;
constexpr std::int64_t min_utc_seconds = -62167219200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t max_utc_seconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr std::uint32_t powers_of_ten[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

void put_digits(char* out, int value, int count) noexcept {
  for (int i = count - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

/// Reads `YYYY-MM-DD` at the start of `text`; false unless it is there and a real calendar
/// date (month 1..12, the day within the month, leap years counted).
bool read_date(std::string_view text, int& year, int& month, int& day) noexcept {
  return read_digits(text, 0, 4, year) && text.size() >= 10 && text[4] == '-' && read_digits(text, 5, 2, month) &&
         text[7] == '-' && read_digits(text, 8, 2, day) && month >= 1 && month <= 12 && day >= 1 &&
         day <= days_in_month(year, month);
}

} // namespace

bool is_iso8601_date_time(std::string_view text) noexcept {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() < 16 || !read_date(text, year, month, day))
    return false;
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ')
    return false;
  if (!read_digits(text, 11, 2, hour) || text[13] != ':' || !read_digits(text, 14, 2, minute))
    return false;
  std::size_t pos = 16;
  bool has_nonzero_time = minute != 0;
  if (pos < text.size() && text[pos] == ':') {
    if (!read_digits(text, pos + 1, 2, second) || second > 60)
      return false;
    has_nonzero_time = has_nonzero_time || second != 0;
    pos += 3;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      const std::size_t first_digit = ++pos;
      while (pos < text.size() && is_digit(text[pos])) {
        has_nonzero_time = has_nonzero_time || text[pos] != '0';
        ++pos;
      }
      if (pos == first_digit || pos - first_digit > 9)
        return false;
    }
  }
  if (minute > 59 || hour > 24 || (hour == 24 && has_nonzero_time))
    return false;
  return is_zone(text, pos);
}

void timestamp_text::assign(std::string_view text) {
  assign(text, text.size() <= capacity ? parse_utc_timestamp(text) : std::nullopt);
}

void timestamp_text::assign(std::string_view text, const std::optional<utc_timestamp>& utc) {
  if (text.size() > capacity)
    throw std::length_error("timestamp longer than " + std::to_string(capacity) + " characters");
  std::memcpy(chars_, text.data(), text.size());
  size_ = static_cast<std::uint8_t>(text.size());
  if (utc) {
    std::memcpy(chars_ + seconds_at, &utc->seconds, sizeof utc->seconds);
    size_ |= has_utc_flag;
  }
}

std::optional<utc_timestamp> timestamp_text::utc() const noexcept {
  if ((size_ & has_utc_flag) == 0)
    return std::nullopt;
  // The fraction's digits lie between `YYYY-MM-DDThh:mm:ss.` and `Z`, checked when set.
  constexpr std::size_t fraction_at = 20;
  utc_timestamp t;
  std::memcpy(&t.seconds, chars_ + seconds_at, sizeof t.seconds);
  const std::size_t end = size() - 1;
  for (std::size_t i = fraction_at; i < end; ++i)
    t.fraction = t.fraction * 10 + static_cast<std::uint32_t>(chars_[i] - '0');
  t.digits = static_cast<std::uint8_t>(end > fraction_at ? end - fraction_at : 0);
  return t;
}

std::optional<timestamp_text> timestamp_from_epoch_ms(std::int64_t ms) noexcept {
  std::int64_t seconds = ms / 1000;
  std::int64_t milliseconds = ms % 1000;
  if (milliseconds < 0) {
    milliseconds += 1000;
    --seconds;
  }
  return utc_timestamp_text(utc_timestamp{seconds, static_cast<std::uint32_t>(milliseconds), 3});
}

std::optional<std::string> iso8601_from_epoch_ms(std::int64_t ms) {
  const auto text = timestamp_from_epoch_ms(ms);
  if (!text)
    return std::nullopt;
  return text->str();
}

std::optional<utc_timestamp> parse_utc_timestamp(std::string_view text) noexcept {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() < 20 || !read_date(text, year, month, day) || text[10] != 'T' || !read_digits(text, 11, 2, hour) ||
      text[13] != ':' || !read_digits(text, 14, 2, minute) || text[16] != ':' || !read_digits(text, 17, 2, second))
    return std::nullopt;
  if (hour > 23 || minute > 59 || second > 59)
    return std::nullopt;
  utc_timestamp t;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    while (++pos < text.size() && is_digit(text[pos])) {
      if (++t.digits > 9)
        return std::nullopt;
      t.fraction = t.fraction * 10 + static_cast<std::uint32_t>(text[pos] - '0');
    }
    if (t.digits == 0)
      return std::nullopt;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z')
    return std::nullopt;
  t.seconds = days_from_civil(year, month, day) * seconds_per_day + hour * 3600 + minute * 60 + second;
  return t;
}

std::optional<timestamp_text> utc_timestamp_text(const utc_timestamp& t) noexcept {
  if (t.digits > 9 || t.fraction >= powers_of_ten[t.digits] || t.seconds < min_utc_seconds ||
      t.seconds > max_utc_seconds)
    return std::nullopt;
  std::int64_t days = t.seconds / seconds_per_day;
  std::int64_t of_day = t.seconds % seconds_per_day;
  if (of_day < 0) {
    of_day += seconds_per_day;
    --days;
  }
  int year = 0;
  int month = 0;
  int day = 0;
  civil_from_days(days, year, month, day);
  char out[31] = "0000-00-00T00:00:00";
  put_digits(out, year, 4);
  put_digits(out + 5, month, 2);
  put_digits(out + 8, day, 2);
  put_digits(out + 11, static_cast<int>(of_day / 3600), 2);
  put_digits(out + 14, static_cast<int>(of_day / 60 % 60), 2);
  put_digits(out + 17, static_cast<int>(of_day % 60), 2);
  std::size_t size = 19;
  if (t.digits > 0) {
    out[size++] = '.';
    put_digits(out + size, static_cast<int>(t.fraction), t.digits);
    size += t.digits;
  }
  out[size++] = 'Z';
  timestamp_text text;
  text.assign(std::string_view{out, size}, t);
  return text;
}

} // namespace telluride
