#include "telluride/domain/timestamp.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using telluride::iso8601_from_epoch_ms;
using telluride::is_iso8601_date_time;

TEST_CASE("ISO 8601 extended date-times are accepted") {
  for (std::string text : {
           "2021-02-12T01:18:51.838675Z",
           "2021-02-12T01:18:51Z",
           "2021-02-12T01:18Z",
           "2021-02-12T01:18",
           "2021-02-12t01:18:51z",
           "2021-02-12 01:18:51",
           "2021-02-12T01:18:51,5Z",
           "2021-02-12T01:18:51.123456789Z",
           "2021-02-12T01:18:51+05:30",
           "2021-02-12T01:18:51-0800",
           "2021-02-12T01:18:51+01",
           "2024-02-29T00:00:00Z",
           "2000-02-29T00:00:00Z",
           "2016-12-31T23:59:60Z",
           "2021-02-12T24:00:00Z",
           "0000-01-01T00:00:00Z",
           "9999-12-31T23:59:59.999Z",
       }) {
    CAPTURE(text);
    CHECK(is_iso8601_date_time(text));
  }
}

TEST_CASE("text that is not an ISO 8601 date-time is rejected") {
  for (std::string text : {
           "",
           "yesterday",
           "2021-02-12",
           "2021-02-12T",
           "2021-02-12T01",
           "20210212T011851Z",
           "2021-2-12T01:18:51Z",
           "2021-13-01T00:00:00Z",
           "2021-00-01T00:00:00Z",
           "2021-02-29T00:00:00Z",
           "1900-02-29T00:00:00Z",
           "2021-04-31T00:00:00Z",
           "2021-02-00T00:00:00Z",
           "2021-02-12T25:00:00Z",
           "2021-02-12T24:00:01Z",
           "2021-02-12T01:60:00Z",
           "2021-02-12T01:18:61Z",
           "2021-02-12T01:18:51.Z",
           "2021-02-12T01:18:51.1234567890Z",
           "2021-02-12T01:18:51ZZ",
           "2021-02-12T01:18:51+5",
           "2021-02-12T01:18:51+24:00",
           "2021-02-12T01:18:51+01:60",
           "2021-02-12T01:18:51 ",
           " 2021-02-12T01:18:51",
           "2021-02-12X01:18:51",
       }) {
    CAPTURE(text);
    CHECK_FALSE(is_iso8601_date_time(text));
  }
}

TEST_CASE("epoch milliseconds become UTC text with milliseconds") {
  const std::vector<std::pair<std::int64_t, std::string>> cases = {
      {0, "1970-01-01T00:00:00.000Z"},
      {1613092731838, "2021-02-12T01:18:51.838Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
      {-86400000, "1969-12-31T00:00:00.000Z"},
      {951782400000, "2000-02-29T00:00:00.000Z"},
      {1709251199999, "2024-02-29T23:59:59.999Z"},
      {253402300799999, "9999-12-31T23:59:59.999Z"},
      {-62167219200000, "0000-01-01T00:00:00.000Z"},
  };
  for (const auto& [ms, text] : cases) {
    CAPTURE(ms);
    CHECK(iso8601_from_epoch_ms(ms) == text);
    CHECK(is_iso8601_date_time(text));
  }
}

TEST_CASE("epoch milliseconds outside years 0000..9999 have no ISO text") {
  CHECK_FALSE(iso8601_from_epoch_ms(253402300800000).has_value());
  CHECK_FALSE(iso8601_from_epoch_ms(-62167219200001).has_value());
  CHECK_FALSE(iso8601_from_epoch_ms(INT64_MAX).has_value());
  CHECK_FALSE(iso8601_from_epoch_ms(INT64_MIN).has_value());
}

TEST_CASE("the longest accepted date-time fits a timestamp_text, and longer text is refused") {
  const std::string longest = "2021-02-12T01:18:51.123456789+05:30";
  REQUIRE(telluride::is_iso8601_date_time(longest));
  CHECK_FALSE(telluride::is_iso8601_date_time(longest + "0"));
  CHECK_FALSE(telluride::is_iso8601_date_time("2021-02-12T01:18:51.1234567890+05:30"));
  telluride::timestamp_text t{longest};
  CHECK(t == longest);
  CHECK(t.size() == 35);
  CHECK(t.str() == longest);
  CHECK(telluride::timestamp_text{} == "");
  CHECK(telluride::timestamp_text{std::string(39, '9')}.size() == 39);
  CHECK_THROWS_AS(telluride::timestamp_text{std::string(40, '9')}, std::length_error);
  t.assign("1970-01-01T00:00:00.000Z");
  CHECK(t == telluride::timestamp_text{"1970-01-01T00:00:00.000Z"});
}

TEST_CASE("UTC timestamps of the compact form become numbers and come back as the same text") {
  using telluride::parse_utc_timestamp;
  using telluride::utc_timestamp;
  using telluride::utc_timestamp_text;
  const auto simulator = parse_utc_timestamp("2026-12-03T17:20:16.123456Z");
  REQUIRE(simulator);
  CHECK(*simulator == utc_timestamp{1796318416, 123456, 6});
  CHECK(parse_utc_timestamp("1970-01-01T00:00:00Z") == utc_timestamp{0, 0, 0});
  CHECK(parse_utc_timestamp("1969-12-31T23:59:59.5Z") == utc_timestamp{-1, 5, 1});
  CHECK(parse_utc_timestamp("2021-02-12T01:18:51.0500Z") == utc_timestamp{1613092731, 500, 4});
  CHECK(parse_utc_timestamp("0000-01-01T00:00:00Z") == utc_timestamp{-62167219200, 0, 0});
  CHECK(parse_utc_timestamp("9999-12-31T23:59:59.999999999Z") == utc_timestamp{253402300799, 999999999, 9});
  CHECK(parse_utc_timestamp("2024-02-29T12:00:00Z").has_value());
  for (std::string text : {"2026-12-03T17:20:16.123456Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z",
                           "2021-02-12T01:18:51.0500Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
                           "2024-02-29T12:00:00.000Z", "1600-03-01T00:00:00.0Z"}) {
    CAPTURE(text);
    const auto parsed = parse_utc_timestamp(text);
    REQUIRE(parsed);
    const auto again = utc_timestamp_text(*parsed);
    REQUIRE(again);
    CHECK(again->view() == text);
  }
}

TEST_CASE("any other timestamp text has no compact form, and numbers out of range have no text") {
  using telluride::parse_utc_timestamp;
  using telluride::utc_timestamp;
  using telluride::utc_timestamp_text;
  for (std::string text : {"2026-12-03t17:20:16Z", "2026-12-03 17:20:16Z", "2026-12-03T17:20:16z",
                           "2026-12-03T17:20:16+00:00", "2026-12-03T17:20:16,5Z", "2026-12-03T17:20Z",
                           "2026-12-03T17:20:60Z", "2026-12-03T24:00:00Z", "2023-02-29T00:00:00Z",
                           "2026-12-03T17:20:16.Z", "2026-12-03T17:20:16.1234567890Z", "2026-12-03T17:20:16",
                           "2026-12-03T17:20:16ZZ", "2026-12-03T17:20:16.5", "", "not a time", "+2026-12-03T17:20:16Z"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_utc_timestamp(text).has_value());
  }
  CHECK_FALSE(utc_timestamp_text(utc_timestamp{0, 0, 10}).has_value());
  CHECK_FALSE(utc_timestamp_text(utc_timestamp{0, 10, 1}).has_value());
  CHECK_FALSE(utc_timestamp_text(utc_timestamp{-62167219201, 0, 0}).has_value());
  CHECK_FALSE(utc_timestamp_text(utc_timestamp{253402300800, 0, 0}).has_value());
  CHECK(utc_timestamp_text(utc_timestamp{0, 0, 3})->view() == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("a timestamp_text of the compact form keeps its numbers, and any other text has none") {
  using telluride::parse_utc_timestamp;
  using telluride::timestamp_text;
  for (std::string text : {"2026-12-03T17:20:16.123456Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z",
                           "2021-02-12T01:18:51.0500Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
                           "0000-01-01T00:00:00.000000001Z", "2026-12-03t17:20:16Z", "2026-12-03T17:20:16+00:00",
                           "2026-12-03T17:20:60Z", "2021-02-12T01:18:51.123456789+05:30", "", "not a time"}) {
    CAPTURE(text);
    const timestamp_text kept{text};
    CHECK(kept.view() == text);
    CHECK(kept.size() == text.size());
    CHECK(kept.utc() == parse_utc_timestamp(text));
    const timestamp_text copy = kept;
    CHECK(copy.utc() == parse_utc_timestamp(text));
  }
  // Text of another form set over one of the compact form has no numbers, and back.
  timestamp_text t{"2026-12-03T17:20:16.5Z"};
  REQUIRE(t.utc());
  t.assign("2026-12-03T17:20:16+01:00");
  CHECK_FALSE(t.utc());
  CHECK(t == "2026-12-03T17:20:16+01:00");
  t.assign("1969-12-31T23:59:59.000Z");
  CHECK(t.utc() == telluride::utc_timestamp{-1, 0, 3});
  CHECK(sizeof(timestamp_text) == 40);
}

TEST_CASE("timestamp_text's numbers equal parse_utc_timestamp's for 200,000 texts near the compact form") {
  // Texts of the compact form, each changed at up to three places (a character set, added,
  // removed; the size cut): every kind of near miss, and many texts that still parse.
  using telluride::parse_utc_timestamp;
  const std::vector<std::string> seeds = {"2021-02-12T01:18:51.838675Z", "2021-02-12T01:18:51Z", "1969-12-31T23:59:59.5Z",
                                          "0000-01-01T00:00:00.000000001Z", "9999-12-31T23:59:59.999999999Z",
                                          "2024-02-29T00:00:00Z", "2021-02-12T01:18:51+05:30"};
  const std::string alphabet = "0123456789-:T tZz+.,";
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::size_t compact = 0;
  for (int n = 0; n < 200000; ++n) {
    std::string text = seeds[next() % seeds.size()];
    for (int edits = static_cast<int>(next() % 4); edits > 0; --edits) {
      const std::size_t at = text.empty() ? 0 : next() % text.size();
      const char c = alphabet[next() % alphabet.size()];
      switch (next() % 4) {
        case 0: if (!text.empty()) text[at] = c; break;
        case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        case 2: if (!text.empty()) text.erase(at, 1); break;
        default: text.resize(next() % (text.size() + 1)); break;
      }
    }
    const auto expected = parse_utc_timestamp(text);
    compact += expected.has_value();
    const telluride::timestamp_text kept{text};
    if (kept.utc() != expected)
      FAIL_CHECK("differs for " << text);
  }
  CHECK(compact > 20000);  // the comparison covered many texts with numbers, not only refusals
}
