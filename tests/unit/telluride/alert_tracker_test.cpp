#include "telluride/domain/alert_tracker.hpp"
#include "telluride/domain/compact_sensor_key.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using telluride::alert;
using telluride::alert_rules;
using telluride::alert_tracker;
using telluride::json_id;
using telluride::reading;
using telluride::sensor_key;

namespace {

sensor_key key_of(std::int64_t sensor) {
  return sensor_key{json_id{10}, json_id{100}, json_id{sensor}};
}

reading reading_of(double value, std::optional<std::string> type = std::nullopt,
                   std::int64_t sensor = 1000, std::string timestamp = "t") {
  return reading{key_of(sensor), value, std::move(timestamp), std::move(type)};
}

/// Feeds `values` to sensor 1000 and returns the `consecutive` of each alert raised.
std::vector<std::uint64_t> alerts_for(alert_tracker& tracker, const std::vector<double>& values) {
  std::vector<std::uint64_t> raised;
  for (double value : values)
    if (auto a = tracker.observe(reading_of(value)))
      raised.push_back(a->consecutive);
  return raised;
}

} // namespace

TEST_CASE("three consecutive readings above the threshold raise one alert on the third") {
  alert_tracker tracker(alert_rules{});
  CHECK_FALSE(tracker.observe(reading_of(101, std::nullopt, 1000, "t1")).has_value());
  CHECK_FALSE(tracker.observe(reading_of(102, std::nullopt, 1000, "t2")).has_value());
  const auto raised = tracker.observe(reading_of(103, std::nullopt, 1000, "t3"));
  REQUIRE(raised.has_value());
  CHECK(raised->key == key_of(1000));
  CHECK(raised->reading == 103);
  CHECK(raised->threshold == 100);
  CHECK(raised->consecutive == 3);
  CHECK(raised->timestamp == "t3");
}

TEST_CASE("a sensor that stays above alerts once, not again every alert_after readings") {
  alert_tracker tracker(alert_rules{});
  CHECK(alerts_for(tracker, std::vector<double>(10, 101)) == std::vector<std::uint64_t>{3});
  CHECK(tracker.consecutive(key_of(1000)) == 10);
}

TEST_CASE("a reading at or below the threshold resets the counter") {
  alert_tracker tracker(alert_rules{});
  CHECK(alerts_for(tracker, {101, 101, 100, 101, 101}).empty());
  CHECK(tracker.consecutive(key_of(1000)) == 2);
  CHECK(alerts_for(tracker, {99}).empty());
  CHECK(tracker.consecutive(key_of(1000)) == 0);
}

TEST_CASE("after a reset the sensor alerts again") {
  alert_tracker tracker(alert_rules{});
  CHECK(alerts_for(tracker, {101, 101, 101, 101, 50, 101, 101, 101}) ==
        std::vector<std::uint64_t>{3, 3});
}

TEST_CASE("the threshold follows the reading's type, else default") {
  alert_rules rules;
  rules.thresholds = {{"default", 100.0}, {"temperature", 80.0}};
  rules.alert_after = 1;
  alert_tracker tracker(rules);
  CHECK(tracker.observe(reading_of(90, "temperature", 1)).has_value());
  CHECK_FALSE(tracker.observe(reading_of(90, std::nullopt, 2)).has_value());
  CHECK_FALSE(tracker.observe(reading_of(90, "pressure", 3)).has_value());
  const auto raised = tracker.observe(reading_of(100.5, "pressure", 4));
  REQUIRE(raised.has_value());
  CHECK(raised->threshold == 100.0);
  CHECK(tracker.threshold_for(std::string("temperature")) == 80.0);
  CHECK(tracker.threshold_for(std::nullopt) == 100.0);
}

TEST_CASE("each of 200 listed types has its own threshold, and an unlisted type, or none, has the default") {
  alert_rules rules;
  rules.thresholds = {{"default", 7.5}};
  for (int i = 0; i < 200; ++i)
    rules.thresholds.emplace("type-" + std::to_string(i), 1000.0 + i);
  alert_tracker tracker(rules);
  for (int i = 0; i < 200; ++i)
    CHECK(tracker.threshold_for("type-" + std::to_string(i)) == 1000.0 + i);
  CHECK(tracker.threshold_for(std::string("type-200")) == 7.5);
  CHECK(tracker.threshold_for(std::string("type-1 ")) == 7.5);
  CHECK(tracker.threshold_for(std::string("")) == 7.5);
  CHECK(tracker.threshold_for(std::nullopt) == 7.5);
  CHECK(tracker.threshold_for(std::string("default")) == 7.5);
  // The copy answers the same.
  const alert_tracker copy = tracker;
  CHECK(copy.threshold_for(std::string("type-199")) == 1199.0);
  CHECK(copy.threshold_for(std::string("other")) == 7.5);
}

TEST_CASE("without a default, readings without a listed type never warn") {
  alert_rules rules;
  rules.thresholds = {{"temperature", 80.0}};
  rules.alert_after = 1;
  alert_tracker tracker(rules);
  CHECK_FALSE(tracker.observe(reading_of(1e300)).has_value());
  CHECK_FALSE(tracker.threshold_for(std::nullopt).has_value());
  CHECK(tracker.observe(reading_of(81, "temperature")).has_value());
}

TEST_CASE("alert_after 1 alerts on the first reading above") {
  alert_tracker tracker(alert_rules{{{"default", 100.0}}, 1});
  CHECK(alerts_for(tracker, {101, 102, 100, 103}) == std::vector<std::uint64_t>{1, 1});
}

TEST_CASE("sensors count their warnings independently, and only sensors above use memory") {
  alert_tracker tracker(alert_rules{});
  CHECK_FALSE(tracker.observe(reading_of(101, std::nullopt, 1)).has_value());
  CHECK_FALSE(tracker.observe(reading_of(101, std::nullopt, 2)).has_value());
  CHECK_FALSE(tracker.observe(reading_of(101, std::nullopt, 1)).has_value());
  CHECK_FALSE(tracker.observe(reading_of(50, std::nullopt, 2)).has_value());
  CHECK_FALSE(tracker.observe(reading_of(50, std::nullopt, 3)).has_value());
  CHECK(tracker.sensors_above() == 1);
  const auto raised = tracker.observe(reading_of(101, std::nullopt, 1));
  REQUIRE(raised.has_value());
  CHECK(raised->key == key_of(1));
  CHECK(tracker.consecutive(key_of(2)) == 0);
}

TEST_CASE("the alert message has the contract's fields, order and id types") {
  const alert raised{sensor_key{json_id{10}, json_id{std::string("d")}, json_id{1000}}, 103.5,
                     100, 3, "2021-02-12T01:18:51.838675Z"};
  CHECK(to_json_text(raised) ==
        R"({"event":"threshold_exceeded","line_id":10,"device_id":"d","sensor_id":1000,)"
        R"("reading":103.5,"threshold":100,"consecutive":3,)"
        R"("timestamp":"2021-02-12T01:18:51.838675Z"})");
  CHECK(nlohmann::json::parse(to_json_text(raised)).size() == 8);
}

TEST_CASE("a counter set from a checkpoint mid-excursion raises the alert on the same reading") {
  alert_tracker live(alert_rules{});
  CHECK(alerts_for(live, {101, 102}).empty());
  const telluride::compact_sensor_key key{key_of(1000)};
  CHECK(live.consecutive(key) == 2);
  CHECK(live.consecutive(key_of(1000)) == 2);

  alert_tracker restored(alert_rules{});
  restored.set_consecutive(key, live.consecutive(key));
  CHECK(restored.consecutive(key_of(1000)) == 2);
  CHECK(restored.sensors_above() == 1);
  CHECK(alerts_for(live, {103, 104}) == std::vector<std::uint64_t>{3});
  CHECK(alerts_for(restored, {103, 104}) == std::vector<std::uint64_t>{3});
  CHECK(restored.consecutive(key) == 4);
}

TEST_CASE("a counter set past alert_after raises nothing more until a reset, and 0 forgets it") {
  alert_tracker tracker(alert_rules{});
  const telluride::compact_sensor_key key{key_of(1000)};
  tracker.set_consecutive(key, 7);
  CHECK(alerts_for(tracker, {101, 101}).empty());
  CHECK(tracker.consecutive(key) == 9);
  tracker.set_consecutive(key, 0);
  CHECK(tracker.sensors_above() == 0);
  CHECK(tracker.consecutive(key) == 0);
  CHECK(alerts_for(tracker, {101, 101, 101}) == std::vector<std::uint64_t>{3});
}

TEST_CASE("counters of string-id sensors are set and read by their compact key") {
  alert_tracker tracker(alert_rules{});
  const sensor_key with_strings{json_id{std::string("line-a")}, json_id{100}, json_id{std::string("s")}};
  const telluride::compact_sensor_key key{with_strings};
  tracker.set_consecutive(key, 2);
  CHECK(tracker.consecutive(with_strings) == 2);
  const auto raised = tracker.observe(reading{with_strings, 150, "t", std::nullopt});
  REQUIRE(raised.has_value());
  CHECK(raised->consecutive == 3);
}
