// The sensors of GET /api/sensors: matched by a search text in their key, the most read first,
// at most `limit`, and the query's parameters checked.
#include "telluride/daemon/sensor_listing.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace telluride;

namespace {

sensor_aggregate aggregate_of(std::int64_t line, std::int64_t sensor, int reads) {
  sensor_aggregate a;
  a.key = sensor_key{json_id{line}, json_id{std::int64_t{100}}, json_id{sensor}};
  for (int i = 0; i < reads; ++i)
    a.stats.add(static_cast<double>(i));
  a.last_reading = reads - 1;
  return a;
}

/// The listing of `query` over sensors 1..9 of line 10 (sensor N read N times) and 10/100/77
/// (read 5 times, like sensor 5).
nlohmann::json list(sensor_listing_query query) {
  sensor_listing listing{std::move(query)};
  for (int sensor = 1; sensor <= 9; ++sensor)
    listing.offer(aggregate_of(10, sensor, sensor), static_cast<std::uint64_t>(sensor % 3));
  listing.offer(aggregate_of(10, 77, 5), 40);
  return nlohmann::json::parse(listing.take_json());
}

std::vector<std::string> keys_of(const nlohmann::json& doc) {
  std::vector<std::string> keys;
  for (const auto& s : doc["sensors"])
    keys.push_back(std::to_string(s["line_id"].get<int>()) + "/" + std::to_string(s["device_id"].get<int>()) + "/" +
                   std::to_string(s["sensor_id"].get<int>()));
  return keys;
}

} // namespace

TEST_CASE("the listing keeps the most read sensors first, ties by key text, at most limit") {
  auto doc = list({"", 4});
  CHECK(doc["matched"] == 10);
  CHECK(keys_of(doc) == std::vector<std::string>{"10/100/9", "10/100/8", "10/100/7", "10/100/6"});
  CHECK(doc["sensors"][0]["total_reads"] == 9);
  CHECK(doc["sensors"][0]["max"] == 8.0);
  CHECK(doc["sensors"][0]["last_reading"] == 8.0);
  CHECK(doc["sensors"][0]["alerts"] == 0);
  CHECK(doc["sensors"][1]["alerts"] == 2);
  CHECK(doc["sensors"][2]["alerts"] == 1);

  auto ties = list({"", 6});
  CHECK(keys_of(ties) == std::vector<std::string>{"10/100/9", "10/100/8", "10/100/7", "10/100/6", "10/100/5",
                                                  "10/100/77"});
}

TEST_CASE("the listing matches the search text anywhere in line/device/sensor and counts every match") {
  auto doc = list({"/7", 50});
  CHECK(doc["matched"] == 2);
  CHECK(keys_of(doc) == std::vector<std::string>{"10/100/7", "10/100/77"});
  auto none = list({"11/", 50});
  CHECK(none == nlohmann::json::parse(R"({"matched": 0, "sensors": []})"));
}

TEST_CASE("the listing's parameters: absent means every sensor and 50, a bad one is named") {
  auto plain = parse_sensor_listing_query(std::nullopt, std::nullopt);
  REQUIRE(plain);
  CHECK(plain->search.empty());
  CHECK(plain->limit == 50);
  auto given = parse_sensor_listing_query(std::string{"10/"}, std::string{"500"});
  REQUIRE(given);
  CHECK(given->search == "10/");
  CHECK(given->limit == 500);
  for (const char* bad : {"0", "501", "-1", "1.5", "", "x", "99999999999999999999999"}) {
    CAPTURE(bad);
    auto q = parse_sensor_listing_query(std::nullopt, std::string{bad});
    REQUIRE_FALSE(q);
    CHECK(q.err().message == "limit must be an integer in 1..500");
  }
  auto long_search = parse_sensor_listing_query(std::string(257, 'a'), std::nullopt);
  REQUIRE_FALSE(long_search);
  CHECK(long_search.err().message == "q must be at most 256 bytes, got 257");
}

TEST_CASE("a sensor on the HTTP API is its aggregate message with the alerts raised added last") {
  const sensor_aggregate a = aggregate_of(10, 7, 3);
  std::string out;
  append_sensor_json(out, a, 12);
  std::string expected = to_json_text(a);
  expected.insert(expected.size() - 1, ",\"alerts\":12");
  CHECK(out == expected);
  const auto doc = nlohmann::json::parse(out);
  CHECK(doc.size() == 11);  // the aggregate's ten fields, then alerts
  CHECK(doc["alerts"] == 12);
  CHECK(doc["total_reads"] == 3);
  CHECK(doc["sensor_id"] == 7);
}
