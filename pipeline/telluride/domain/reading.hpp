// reading.hpp — one sensor reading, parsed from the body of a reading message
// (docs/wire-format.md, Reading).
//
// `{"line_id": 10, "device_id": 100, "sensor_id": 1000, "reading": 99.0263,
//   "timestamp": "2021-02-12T01:18:51.838675Z", "type": "temperature"}`
// Parsing is the hot path of the daemon (one call per message), so it uses simdjson's
// on-demand API in one pass over the fields and keeps its buffers between calls.
#pragma once

#include "telluride/domain/expected.hpp"
#include "telluride/domain/sensor_key.hpp"
#include "telluride/domain/timestamp.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace telluride {

struct reading {
  sensor_key key;
  double value = 0;                 ///< finite
  timestamp_text timestamp;         ///< ISO 8601: the text given, or made from epoch ms
  std::optional<std::string> type;  ///< the optional `"type"` string (selects alert thresholds)

  bool operator==(const reading&) const = default;
};

/// Spare bytes a body needs after its end to be parsed in place (simdjson's padding). Copy
/// AMQP bodies with `body.reserve(size + reading_padding); body.assign(bytes, size);` and
/// `reading_parser::parse` reads them where they are, with no copy.
inline constexpr std::size_t reading_padding = 64;

/// Parses reading messages. Holds simdjson's parser and a padded scratch buffer, reused by
/// every call: keep one per thread (a parser is not thread-safe; calls never allocate once
/// warm, apart from the strings of the returned reading).
///
/// Cost: ~120 ns for the documented example body (Release build, this project's 2-core VM),
/// a third of it simdjson's structural scan; see reading_test.cpp.
///
/// What is accepted (anything else is an error naming the field and the problem):
/// - a JSON object of at most 1 MiB, nothing but whitespace after it;
/// - `line_id`, `device_id`, `sensor_id`: a JSON integer that fits int64 or a JSON string;
/// - `reading`: a JSON number, or a string holding a decimal number (`"99.02"`, `"1e3"`; not
///   `""`, `"abc"`, `" 1"`, `"nan"`, `"inf"`); the value must be finite;
/// - `timestamp`: an ISO 8601 date-time string (see `is_iso8601_date_time`), kept as given,
///   or an integer of epoch milliseconds, stored as `YYYY-MM-DDThh:mm:ss.mmmZ`;
/// - `type`: kept when it is a string; any other JSON type is ignored like an extra field.
/// Other fields are skipped (and, being skipped, only checked for JSON structure). When a
/// field occurs twice the last one counts. Keys are matched as written (`"line_id"`, not
/// an escaped spelling of it).
class reading_parser {
public:
  reading_parser();
  ~reading_parser();
  reading_parser(reading_parser&&) noexcept;
  reading_parser& operator=(reading_parser&&) noexcept;

  /// Parses `body` in place when `body.capacity() - body.size() >= reading_padding`,
  /// otherwise from a copy in the scratch buffer. `body` is not modified.
  expected<reading> parse(const std::string& body);

  /// Parses from a copy of `body` in the scratch buffer.
  expected<reading> parse(std::string_view body);
  expected<reading> parse(const char* body) { return parse(std::string_view{body}); }

  /// The same, into `out`, a default-constructed reading, which the caller keeps: the daemon
  /// parses each reading into its decoded_reading, moved once into the block that keeps it.
  /// After an error, `out` holds some of the body's fields: discard it.
  expected<void> parse_into(const std::string& body, reading& out);
  expected<void> parse_into(std::string_view body, reading& out);

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace telluride
