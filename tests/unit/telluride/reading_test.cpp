#include "telluride/domain/reading.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using telluride::json_id;
using telluride::reading;
using telluride::reading_parser;

namespace {

/// The error of parsing `body`, or "(parsed)" when it parsed.
std::string problem_of(std::string_view body) {
  reading_parser parser;
  auto parsed = parser.parse(body);
  return parsed ? "(parsed)" : parsed.err().message;
}

/// "(parsed)" or the error, for comparing what two parses said.
std::string describe_result(const telluride::expected<reading>& result) {
  return result ? "(parsed)" : result.err().message;
}

reading parse_ok(std::string_view body) {
  reading_parser parser;
  auto parsed = parser.parse(body);
  REQUIRE_MESSAGE(parsed.has_value(), parsed.err().message);
  return *parsed;
}

/// A valid reading whose `field` has the JSON text `value`.
std::string with_field(std::string_view field, std::string_view value) {
  std::string body = "{";
  for (std::string_view name : {"line_id", "device_id", "sensor_id", "reading", "timestamp"}) {
    if (body.size() > 1)
      body += ",";
    body.append("\"").append(name).append("\":");
    if (name == field)
      body += value;
    else if (name == "timestamp")
      body += "\"2021-02-12T01:18:51.838675Z\"";
    else
      body += "1";
  }
  return body + "}";
}

} // namespace

TEST_CASE("the contract's example reading is parsed field by field") {
  const reading r = parse_ok(R"({"line_id": 10, "device_id": 100, "sensor_id": 1000,
    "reading": 99.0263, "timestamp": "2021-02-12T01:18:51.838675Z"})");
  CHECK(r.key.line_id == json_id{10});
  CHECK(r.key.device_id == json_id{100});
  CHECK(r.key.sensor_id == json_id{1000});
  CHECK(r.value == 99.0263);
  CHECK(r.timestamp == "2021-02-12T01:18:51.838675Z");
  CHECK_FALSE(r.type.has_value());
}

TEST_CASE("a timestamp of the compact UTC form arrives with its numbers, epoch ms too, and any other with none") {
  const auto utc = parse_ok(with_field("timestamp", "\"2021-02-12T01:18:51.838675Z\"")).timestamp;
  CHECK(utc == "2021-02-12T01:18:51.838675Z");
  CHECK(utc.utc() == telluride::utc_timestamp{1613092731, 838675, 6});
  const auto from_ms = parse_ok(with_field("timestamp", "1613092731838")).timestamp;
  CHECK(from_ms == "2021-02-12T01:18:51.838Z");
  CHECK(from_ms.utc() == telluride::utc_timestamp{1613092731, 838, 3});
  for (std::string_view other : {"\"2021-02-12T01:18:51.838675+01:00\"", "\"2021-02-12 01:18:51Z\"",
                                 "\"2021-02-12T01:18Z\"", "\"2016-12-31T23:59:60Z\""}) {
    CAPTURE(other);
    const auto kept = parse_ok(with_field("timestamp", other)).timestamp;
    CHECK(kept.view() == other.substr(1, other.size() - 2));
    CHECK_FALSE(kept.utc().has_value());
  }
  CHECK(problem_of(with_field("timestamp", "\"2021-02-30T01:18:51Z\"")) ==
        "\"timestamp\" is not an ISO 8601 date-time: \"2021-02-30T01:18:51Z\"");
}

TEST_CASE("parse_into fills a given reading as parse returns it, and fails with the same message") {
  reading_parser parser;
  for (std::string body : {std::string(R"({"line_id":"l","device_id":2,"sensor_id":3,"reading":"4.5","timestamp":1613092731838,"type":"t"})"),
                           with_field("timestamp", "\"2021-02-12T01:18:51+01:00\""), with_field("reading", "\"x\""),
                           std::string("{}"), std::string("not json")}) {
    CAPTURE(body);
    const auto whole = parser.parse(body);
    reading into;
    const auto filled = parser.parse_into(body, into);
    REQUIRE(filled.has_value() == whole.has_value());
    if (whole)
      CHECK(into == *whole);
    else
      CHECK(filled.err().message == whole.err().message);
    reading from_view;
    const auto viewed = parser.parse_into(std::string_view{body}, from_view);
    REQUIRE(viewed.has_value() == whole.has_value());
    if (whole)
      CHECK(from_view == *whole);
  }
}

TEST_CASE("string ids keep their JSON type and text") {
  const reading r = parse_ok(
      R"({"line_id":"line-a","device_id":"10","sensor_id":"q\"\u00e9","reading":1,"timestamp":"2021-02-12T01:18:51Z"})");
  CHECK(r.key.line_id == json_id{std::string("line-a")});
  CHECK(r.key.device_id == json_id{std::string("10")});
  CHECK_FALSE(r.key.device_id == json_id{10});
  CHECK(r.key.sensor_id == json_id{std::string("q\"\xc3\xa9")});
}

TEST_CASE("negative and 64-bit ids are integers") {
  const reading r = parse_ok(with_field("line_id", "-7"));
  CHECK(r.key.line_id == json_id{-7});
  CHECK(parse_ok(with_field("device_id", "9223372036854775807")).key.device_id ==
        json_id{INT64_MAX});
}

TEST_CASE("a numeric-string reading is accepted") {
  const std::vector<std::pair<std::string, double>> cases = {
      {R"("99.02")", 99.02}, {R"("-1.5e3")", -1500.0}, {R"("0")", 0.0},
      {R"("42")", 42.0},     {R"("1E-2")", 0.01},      {R"(".5")", 0.5},
  };
  for (const auto& [text, value] : cases) {
    CAPTURE(text);
    CHECK(parse_ok(with_field("reading", text)).value == value);
  }
}

TEST_CASE("a JSON number reading is taken as a double, integers included") {
  CHECK(parse_ok(with_field("reading", "-0.125")).value == -0.125);
  CHECK(parse_ok(with_field("reading", "17")).value == 17.0);
  CHECK(parse_ok(with_field("reading", "1e300")).value == 1e300);
}

TEST_CASE("a reading that is not a finite number is rejected, quoting the value") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("abc")", R"("reading" is not a number: "abc")"},
      {R"("")", R"("reading" is not a number: "")"},
      {R"("nan")", R"("reading" is not a number: "nan")"},
      {R"("inf")", R"("reading" is not a number: "inf")"},
      {R"("-infinity")", R"("reading" is not a number: "-infinity")"},
      {R"(" 1")", R"("reading" is not a number: " 1")"},
      {R"("1 ")", R"("reading" is not a number: "1 ")"},
      {R"("0x10")", R"("reading" is not a number: "0x10")"},
      {R"("1e999")", R"("reading" is not a number: "1e999")"},
      {R"("12abc")", R"("reading" is not a number: "12abc")"},
      {"1e999", R"("reading" is out of range: 1e999)"},
      {"true", R"("reading" must be a number or a numeric string, got true)"},
      {"null", R"("reading" must be a number or a numeric string, got null)"},
      {R"({"v": 1})", R"("reading" must be a number or a numeric string, got an object)"},
      {"[1]", R"("reading" must be a number or a numeric string, got an array)"},
  };
  for (const auto& [text, problem] : cases) {
    CAPTURE(text);
    CHECK(problem_of(with_field("reading", text)) == problem);
  }
}

TEST_CASE("a long bad value is quoted only in part") {
  const std::string long_text = "\"" + std::string(100, 'x') + "\"";
  CHECK(problem_of(with_field("reading", long_text)) ==
        "\"reading\" is not a number: \"" + std::string(40, 'x') + "...\"");
}

TEST_CASE("a value is quoted only in part, cut between characters, never inside one") {
  // 1 + 30 * 2 bytes: the 40th byte is the first of the 20th "é", which is left out whole.
  std::string text = "x";
  for (int i = 0; i < 30; ++i)
    text += "\xc3\xa9";
  std::string shown = "x";
  for (int i = 0; i < 19; ++i)
    shown += "\xc3\xa9";
  const std::string quoted_string = R"("reading" is not a number: ")" + shown + "...\"";
  CHECK(problem_of(with_field("reading", "\"" + text + "\"")) == quoted_string);
  // The same bytes after a digit: a malformed number, quoted as written.
  text[0] = '1';
  shown[0] = '1';
  const std::string quoted_token = R"("line_id" must be an integer or a string, got )" + shown + "...";
  CHECK(problem_of(with_field("line_id", text)) == quoted_token);
}

TEST_CASE("a malformed value is quoted up to its first space or control byte") {
  CHECK(problem_of(with_field("line_id", std::string("09\0\0``\0\x02", 8))) ==
        "\"line_id\" must be an integer or a string, got 09...");
  CHECK(problem_of(with_field("device_id", "1.5\x7f\n")) ==
        "\"device_id\" must be an integer or a string, got 1.5...");
  CHECK(problem_of(with_field("sensor_id", "1.5 \r\n")) ==
        "\"sensor_id\" must be an integer or a string, got 1.5");
}

TEST_CASE("the verdict on a body does not depend on the bodies parsed before it") {
  // Malformed, but with the brackets balanced: simdjson's on-demand parser answers as its first
  // padding byte makes it (a '}' there checks the balance first). Found by reading_fuzz.
  const std::string body = R"({"line_id": 0, "device_id": 4, "sensor_id": 5, "readtng": 0, )"
                           R"("reading": 2.5, "timestamp": "2021-02-12 01:18z", "extra": )"
                           R"("nestra": {"nasmed":null. "x"]}, "type": 4})";
  const std::string longer = std::string(body.size(), ' ') + "}";
  reading_parser fresh;
  const std::string verdict = describe_result(fresh.parse(std::string_view(body)));
  reading_parser used;
  (void)used.parse(std::string_view(longer));  // leaves a '}' right after where body ends
  CHECK(describe_result(used.parse(std::string_view(body))) == verdict);
  std::string in_place;
  in_place.reserve(body.size() + telluride::reading_padding);
  in_place.assign(body);
  CHECK(describe_result(used.parse(in_place)) == verdict);
}

TEST_CASE("ids that are neither integers nor strings are rejected, naming the field") {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"line_id", "1.5", R"("line_id" must be an integer or a string, got 1.5)"},
      {"device_id", "null", R"("device_id" must be an integer or a string, got null)"},
      {"sensor_id", "true", R"("sensor_id" must be an integer or a string, got true)"},
      {"sensor_id", "[1]", R"("sensor_id" must be an integer or a string, got an array)"},
      {"line_id", R"({"a":1})", R"("line_id" must be an integer or a string, got an object)"},
      {"line_id", "9223372036854775808",
       R"("line_id" must be an integer or a string, got 9223372036854775808)"},
      {"device_id", "1e3", R"("device_id" must be an integer or a string, got 1e3)"},
  };
  for (const auto& [field, text, problem] : cases) {
    CAPTURE(text);
    CHECK(problem_of(with_field(field, text)) == problem);
  }
}

TEST_CASE("an epoch-milliseconds timestamp becomes ISO 8601 UTC text with milliseconds") {
  CHECK(parse_ok(with_field("timestamp", "1613092731838")).timestamp ==
        "2021-02-12T01:18:51.838Z");
  CHECK(parse_ok(with_field("timestamp", "0")).timestamp == "1970-01-01T00:00:00.000Z");
  CHECK(parse_ok(with_field("timestamp", "-1")).timestamp == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("an ISO 8601 timestamp is kept exactly as given") {
  for (std::string text : {"2021-02-12T01:18:51.838675Z", "2021-02-12T01:18:51+01:00",
                           "2021-02-12 01:18", "2024-02-29T23:59:60.5-0330"}) {
    CAPTURE(text);
    CHECK(parse_ok(with_field("timestamp", "\"" + text + "\"")).timestamp == text);
  }
}

TEST_CASE("a timestamp that is not a date-time is rejected, naming the field") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("yesterday")", R"("timestamp" is not an ISO 8601 date-time: "yesterday")"},
      {R"("2021-02-30T00:00:00Z")",
       R"("timestamp" is not an ISO 8601 date-time: "2021-02-30T00:00:00Z")"},
      {R"("2021-02-12")", R"("timestamp" is not an ISO 8601 date-time: "2021-02-12")"},
      {R"("")", R"("timestamp" is not an ISO 8601 date-time: "")"},
      {"1.5",
       R"("timestamp" must be an ISO 8601 string or integer epoch milliseconds, got 1.5)"},
      {"true",
       R"("timestamp" must be an ISO 8601 string or integer epoch milliseconds, got true)"},
      {"253402300800000",
       R"("timestamp" is out of range (years 0000..9999): 253402300800000)"},
  };
  for (const auto& [text, problem] : cases) {
    CAPTURE(text);
    CHECK(problem_of(with_field("timestamp", text)) == problem);
  }
}

TEST_CASE("a missing field is named") {
  CHECK(problem_of(R"({"device_id":1,"sensor_id":1,"reading":1,"timestamp":0})") ==
        R"(missing field "line_id")");
  CHECK(problem_of(R"({"line_id":1,"sensor_id":1,"reading":1,"timestamp":0})") ==
        R"(missing field "device_id")");
  CHECK(problem_of(R"({"line_id":1,"device_id":1,"reading":1,"timestamp":0})") ==
        R"(missing field "sensor_id")");
  CHECK(problem_of(R"({"line_id":1,"device_id":1,"sensor_id":1,"timestamp":0})") ==
        R"(missing field "reading")");
  CHECK(problem_of(R"({"line_id":1,"device_id":1,"sensor_id":1,"reading":1})") ==
        R"(missing field "timestamp")");
  CHECK(problem_of("{}") == R"(missing field "line_id")");
}

TEST_CASE("a body that is not one JSON object is rejected") {
  CHECK(problem_of("[1, 2]") == "not a JSON object");
  CHECK(problem_of("42") == "not a JSON object");
  CHECK(problem_of(R"("text")") == "not a JSON object");
  CHECK(problem_of("null") == "not a JSON object");
  CHECK(problem_of(" true ") == "not a JSON object");
  CHECK(problem_of(with_field("reading", "1") + " {}") ==
        "not valid JSON: content after the object");
  for (std::string body : {"", "   ", "{", "not json", "nul", "tru", "42 x", "\"open",
                           R"({"line_id":1,})", "{\"line_id\":1", "\xff\xfe"}) {
    CAPTURE(body);
    CHECK(problem_of(body).starts_with("not valid JSON: "));
  }
}

TEST_CASE("a body larger than 1 MiB is rejected without being parsed") {
  const std::string body = with_field("reading", "1") + std::string(1 << 20, ' ');
  CHECK(problem_of(body) == "message is too large: " + std::to_string(body.size()) +
                                " bytes (at most 1048576)");
}

TEST_CASE("extra fields are ignored, whatever they hold") {
  const reading r = parse_ok(
      R"({"extra": {"deep": [1, {"x": null}]}, "line_id": 1, "device_id": 2, "sensor_id": 3,
          "note": "hi", "reading": 4.5, "timestamp": 0, "more": [true, false]})");
  CHECK(r.key == telluride::sensor_key{json_id{1}, json_id{2}, json_id{3}});
  CHECK(r.value == 4.5);
}

TEST_CASE("fields may come in any order, and the last of a repeated field counts") {
  const reading r = parse_ok(
      R"({"timestamp":0,"reading":1,"sensor_id":3,"reading":2,"device_id":2,"line_id":1})");
  CHECK(r.value == 2.0);
  CHECK(r.key.sensor_id == json_id{3});
}

TEST_CASE("a string type is kept, and a type of another JSON type is ignored") {
  CHECK(parse_ok(R"({"line_id":1,"device_id":1,"sensor_id":1,"reading":1,"timestamp":0,
                     "type":"temperature"})").type == std::optional<std::string>("temperature"));
  CHECK_FALSE(parse_ok(R"({"line_id":1,"device_id":1,"sensor_id":1,"reading":1,"timestamp":0,
                           "type":7})").type.has_value());
}

TEST_CASE("parsing in place and from a copy give the same reading and leave the body alone") {
  const std::string text = with_field("reading", R"("12.5")");
  std::string padded;
  padded.reserve(text.size() + telluride::reading_padding);
  padded.assign(text);
  std::string tight = text;
  tight.shrink_to_fit();
  reading_parser parser;
  const auto in_place = parser.parse(padded);
  const auto copied = parser.parse(tight);
  REQUIRE(in_place.has_value());
  REQUIRE(copied.has_value());
  CHECK(*in_place == *copied);
  CHECK(in_place->value == 12.5);
  CHECK(padded == text);
  CHECK(tight == text);
}

TEST_CASE("one parser keeps working across errors and growing bodies") {
  reading_parser parser;
  CHECK_FALSE(parser.parse("{").has_value());
  CHECK(parser.parse(with_field("reading", "1"))->value == 1.0);
  const std::string big = R"({"pad":")" + std::string(5000, 'p') + R"(",)" +
                          with_field("reading", "2").substr(1);
  CHECK(parser.parse(big)->value == 2.0);
  CHECK_FALSE(parser.parse(with_field("reading", "\"x\"")).has_value());
  CHECK(parser.parse(with_field("reading", "3"))->value == 3.0);
}

TEST_CASE("parse speed is reported (not asserted)") {
  const std::string text =
      R"({"line_id": 10, "device_id": 100, "sensor_id": 1000, "reading": 99.0263, )"
      R"("timestamp": "2021-02-12T01:18:51.838675Z", "type": "temperature"})";
  std::string padded;
  padded.reserve(text.size() + telluride::reading_padding);
  padded.assign(text);
  std::string tight = text;
  tight.shrink_to_fit();
  reading_parser parser;
  constexpr int rounds = 200000;
  double sum = 0;
  const auto measure = [&](const std::string& body) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i)
      sum += parser.parse(body)->value;
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start)
               .count() /
           rounds;
  };
  measure(padded);  // warm up
  const double in_place_ns = measure(padded);
  const double copied_ns = measure(tight);
  std::printf("reading_parser: %.0f ns/parse in place, %.0f ns/parse copied (%zu-byte body)\n",
              in_place_ns, copied_ns, text.size());
  CHECK(sum == doctest::Approx(99.0263 * 3 * rounds));
}
