// reading_fuzz.cpp — the reading parser (docs/wire-format.md, Reading) on arbitrary bodies.
//
// Invariants: parsing in place (the body's spare capacity as simdjson's padding) and from the
// parser's scratch copy, by two parsers with different histories, give the same answer; an
// error is one line of valid UTF-8, at most `max_error_size` bytes; a reading is finite with an
// ISO 8601 timestamp, and writing it back as JSON and parsing that gives the same reading. The
// parsers live across inputs, as the daemon's do, so state left over from one body would show
// on the next.
#include "fuzz_check.hpp"

#include "telluride/domain/json_text.hpp"
#include "telluride/domain/reading.hpp"
#include "telluride/domain/timestamp.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using telluride::reading;
using telluride::reading_parser;

// Problems quote at most 40 bytes of a value; the fixed texts around them are short.
constexpr std::size_t max_error_size = 300;

/// The reading as a body of the canonical form: ids with their JSON type, the shortest
/// round-trip number, the timestamp text, the type when there is one.
std::string canonical_body(const reading& r) {
  std::string out = "{\"line_id\":";
  telluride::append_json(out, r.key.line_id);
  out += ",\"device_id\":";
  telluride::append_json(out, r.key.device_id);
  out += ",\"sensor_id\":";
  telluride::append_json(out, r.key.sensor_id);
  out += ",\"reading\":";
  telluride::append_json_number(out, r.value);
  out += ",\"timestamp\":";
  telluride::append_json_string(out, r.timestamp.view());
  if (r.type) {
    out += ",\"type\":";
    telluride::append_json_string(out, *r.type);
  }
  return out + "}";
}

std::string describe(const telluride::expected<reading>& result) {
  return result ? canonical_body(*result) : "error: " + result.err().message;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static reading_parser in_place_parser;
  static reading_parser copying_parser;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::string padded;
  padded.reserve(size + telluride::reading_padding);
  padded.assign(text);
  const auto in_place = in_place_parser.parse(padded);
  const auto copied = copying_parser.parse(text);
  fuzz::check(padded == text, "parsing leaves the body as it was", padded);

  fuzz::check(in_place.has_value() == copied.has_value() &&
                  (in_place ? *in_place == *copied : in_place.err().message == copied.err().message),
              "parsing in place and from a copy give the same answer",
              [&] { return describe(in_place) + " | " + describe(copied); });

  if (!copied) {
    const std::string& message = copied.err().message;
    fuzz::check_error_text(message, "reading_parser::parse");
    fuzz::check(message.size() <= max_error_size, "a reading error is short", message);
    return 0;
  }

  const reading& r = *copied;
  fuzz::check(std::isfinite(r.value), "a parsed reading is finite", [&] { return canonical_body(r); });
  fuzz::check(telluride::is_iso8601_date_time(r.timestamp.view()),
              "a parsed timestamp is ISO 8601", r.timestamp.view());
  fuzz::check(r.timestamp.utc() == telluride::parse_utc_timestamp(r.timestamp.view()),
              "a parsed timestamp keeps the numbers of its text (none unless of the compact UTC form)",
              r.timestamp.view());

  const std::string again = canonical_body(r);
  const auto reparsed = copying_parser.parse(again);
  fuzz::check(reparsed.has_value() && *reparsed == r,
              "a reading written back as JSON parses to the same reading",
              [&] { return again + " -> " + describe(reparsed); });
  return 0;
}
