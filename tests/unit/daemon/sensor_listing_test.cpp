// The sensors of GET /api/sensors: matched by a search text in their key, the most read (or the
// most alerts raised) first, at most `limit`, and the query's parameters checked.
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

/// Alerts raised for sensor N of line 10 in list(): 3 for sensors 2 and 4, 1 for sensors 7 and
/// 77, none for the others.
std::uint64_t alerts_of(int sensor) {
  return sensor == 2 || sensor == 4 ? 3 : sensor == 7 || sensor == 77 ? 1 : 0;
}

/// The listing of `query` over sensors 1..9 of line 10 (sensor N read N times) and 10/100/77
/// (read 5 times, like sensor 5), with alerts_of's alerts.
nlohmann::json list(sensor_listing_query query) {
  sensor_listing listing{std::move(query)};
  for (int sensor = 1; sensor <= 9; ++sensor)
    listing.offer(aggregate_of(10, sensor, sensor), alerts_of(sensor));
  listing.offer(aggregate_of(10, 77, 5), alerts_of(77));
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
  CHECK(doc["sensors"][0]["alerts"] == 0);  // alerts_of: 9 and 8 none, 7 one
  CHECK(doc["sensors"][1]["alerts"] == 0);
  CHECK(doc["sensors"][2]["alerts"] == 1);

  auto ties = list({"", 6});
  CHECK(keys_of(ties) == std::vector<std::string>{"10/100/9", "10/100/8", "10/100/7", "10/100/6", "10/100/5",
                                                  "10/100/77"});
}

TEST_CASE("sorted by alerts: the most alerts raised first, ties the most read, then the key text") {
  auto doc = list({"", 5, sensor_order::alerts});
  CHECK(doc["matched"] == 10);
  // 4 and 2 (3 alerts each, 4 read more), 7 (1 alert, read 7 times), 77 (1, read 5), then the
  // most read of those without an alert.
  CHECK(keys_of(doc) == std::vector<std::string>{"10/100/4", "10/100/2", "10/100/7", "10/100/77", "10/100/9"});
  CHECK(doc["sensors"][0]["total_reads"] == 4);

  auto searched = list({"/7", 50, sensor_order::alerts});
  CHECK(searched["matched"] == 2);
  CHECK(keys_of(searched) == std::vector<std::string>{"10/100/7", "10/100/77"});
}

TEST_CASE("the listing's order by alerts keeps the right sensors however they arrive") {
  // 600 sensors offered in an order unrelated to their alerts: the 3 kept are those with the
  // most alerts, whichever came first.
  sensor_listing listing{{"", 3, sensor_order::alerts}};
  for (int i = 0; i < 600; ++i) {
    const int sensor = (i * 7) % 600;
    listing.offer(aggregate_of(1, sensor, 1 + sensor % 5), sensor == 17 ? 9 : sensor == 450 ? 8 : sensor == 3 ? 2 : 0);
  }
  auto doc = nlohmann::json::parse(listing.take_json());
  CHECK(doc["matched"] == 600);
  CHECK(keys_of(doc) == std::vector<std::string>{"1/100/17", "1/100/450", "1/100/3"});
}

TEST_CASE("the listing matches the search text anywhere in line/device/sensor and counts every match") {
  auto doc = list({"/7", 50});
  CHECK(doc["matched"] == 2);
  CHECK(keys_of(doc) == std::vector<std::string>{"10/100/7", "10/100/77"});
  auto none = list({"11/", 50});
  CHECK(none == nlohmann::json::parse(R"({"matched": 0, "sensors": []})"));
}

TEST_CASE("the listing's parameters: absent means every sensor and 50, a bad one is named") {
  auto plain = parse_sensor_listing_query(std::nullopt, std::nullopt, std::nullopt);
  REQUIRE(plain);
  CHECK(plain->search.empty());
  CHECK(plain->limit == 50);
  CHECK(plain->order == sensor_order::reads);
  auto given = parse_sensor_listing_query(std::string{"10/"}, std::string{"500"}, std::string{"alerts"});
  REQUIRE(given);
  CHECK(given->search == "10/");
  CHECK(given->limit == 500);
  CHECK(given->order == sensor_order::alerts);
  auto by_reads = parse_sensor_listing_query(std::nullopt, std::string{"1"}, std::string{"reads"});
  REQUIRE(by_reads);
  CHECK(by_reads->limit == 1);
  CHECK(by_reads->order == sensor_order::reads);
  for (const char* bad : {"0", "501", "-1", "1.5", "", "x", "99999999999999999999999"}) {
    CAPTURE(bad);
    auto q = parse_sensor_listing_query(std::nullopt, std::string{bad}, std::nullopt);
    REQUIRE_FALSE(q);
    CHECK(q.err().message == "limit must be an integer in 1..500");
  }
  for (const char* bad : {"rate", "", "Alerts", "reads ", "alerts,reads", "-reads"}) {
    CAPTURE(bad);
    auto q = parse_sensor_listing_query(std::nullopt, std::nullopt, std::string{bad});
    REQUIRE_FALSE(q);
    CHECK(q.err().message == "sort must be reads or alerts");
  }
  auto long_search = parse_sensor_listing_query(std::string(257, 'a'), std::nullopt, std::nullopt);
  REQUIRE_FALSE(long_search);
  CHECK(long_search.err().message == "q must be at most 256 bytes, got 257");
  // The first bad parameter is named: q, then limit, then sort.
  auto all_bad = parse_sensor_listing_query(std::string(300, 'a'), std::string{"0"}, std::string{"x"});
  REQUIRE_FALSE(all_bad);
  CHECK(all_bad.err().message == "q must be at most 256 bytes, got 300");
  auto two_bad = parse_sensor_listing_query(std::nullopt, std::string{"0"}, std::string{"x"});
  REQUIRE_FALSE(two_bad);
  CHECK(two_bad.err().message == "limit must be an integer in 1..500");
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
