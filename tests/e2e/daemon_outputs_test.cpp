#include "daemon_checks.hpp"

#include <doctest/doctest.h>

using namespace telluride::test;

namespace {

std::string reading(int sensor, double value, const char* type, int second) {
  nlohmann::json j{{"line_id", 1}, {"device_id", 2}, {"sensor_id", sensor}, {"reading", value},
                   {"timestamp", "2026-11-22T10:00:" + std::string(second < 10 ? "0" : "") + std::to_string(second) + "Z"}};
  if (type != nullptr)
    j["type"] = type;
  return j.dump();
}

} // namespace

TEST_CASE("alerts, node metrics and throughput are published on their routes") {
  daemon_process d{"out" + std::to_string(::getpid()),
                   {{"alert_after", 3}, {"alert_thresholds", {{"default", 100.0}, {"temperature", 50.0}}}}};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  // Sensor 1 (temperature, threshold 50): three above → alert at 53; 54 adds none; 10 resets;
  // three above again → alert at 62. Sensor 2 (no type: default 100): alert at 103.
  const std::vector<std::pair<int, double>> sensor1{{1, 49}, {1, 51}, {1, 52}, {1, 53}, {1, 54}, {1, 10}, {1, 60}, {1, 61}, {1, 62}};
  int second = 0;
  auto publish = [&](int sensor, double value, const char* type) {
    auto body = reading(sensor, value, type, second);
    s.publish(d.route("exchange"), d.route("readings_routing_key"), body, "out-" + std::to_string(second));
    ++second;
  };
  for (auto [sensor, value] : sensor1)
    publish(sensor, value, "temperature");
  for (double value : {101.0, 99.0, 101.0, 102.0, 103.0})
    publish(2, value, nullptr);
  s.wait_confirms();

  std::vector<nlohmann::json> alerts;
  CHECK(eventually([&] {
    for (auto& m : s.drain(d.route("alerts_queue")))
      alerts.push_back(nlohmann::json::parse(m.body));
    return alerts.size() >= 3;
  }, 20s));
  std::this_thread::sleep_for(300ms);
  for (auto& m : s.drain(d.route("alerts_queue")))
    alerts.push_back(nlohmann::json::parse(m.body));
  REQUIRE(alerts.size() == 3);
  std::sort(alerts.begin(), alerts.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a["sensor_id"].template get<int>(), a["reading"].template get<double>()) <
           std::make_pair(b["sensor_id"].template get<int>(), b["reading"].template get<double>());
  });
  CHECK(alerts[0] == nlohmann::json{{"event", "threshold_exceeded"}, {"line_id", 1}, {"device_id", 2}, {"sensor_id", 1},
                                    {"reading", 53.0}, {"threshold", 50.0}, {"consecutive", 3},
                                    {"timestamp", "2026-11-22T10:00:03Z"}});
  CHECK(alerts[1]["reading"] == 62.0);
  CHECK(alerts[1]["timestamp"] == "2026-11-22T10:00:08Z");
  CHECK(alerts[2]["sensor_id"] == 2);
  CHECK(alerts[2]["reading"] == 103.0);
  CHECK(alerts[2]["threshold"] == 100.0);

  std::set<std::string> node_types;
  std::uint64_t processed_by_processors = 0;
  CHECK(eventually([&] {
    for (auto& m : s.drain(d.route("metrics_queue"))) {
      auto j = nlohmann::json::parse(m.body);
      CHECK(j.size() == 12);
      for (const char* key : {"node_type", "name", "partition", "call_count", "msg_count", "last_duration", "min_duration",
                              "max_duration", "mean_duration", "sma_duration", "first_time", "last_time"})
        CHECK(j.contains(key));
      CHECK(j["min_duration"].get<double>() <= j["max_duration"].get<double>());
      CHECK(j["first_time"].get<std::int64_t>() <= j["last_time"].get<std::int64_t>());
      node_types.insert(j["node_type"].get<std::string>());
      if (j["node_type"] == "processor")
        processed_by_processors = std::max(processed_by_processors, j["msg_count"].get<std::uint64_t>());
    }
    return node_types.size() == 4;
  }, 20s));
  CHECK(node_types == std::set<std::string>{"producer", "processor", "batcher", "batch_processor"});

  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() == 14; }, 20s));
  const auto& t = totals.latest();
  CHECK(t.size() == 6);
  CHECK(t["total_successful_count"] == 14);
  CHECK(t["earliest_raw_time"].get<std::int64_t>() <= t["last_raw_time"].get<std::int64_t>());
  CHECK(d.stop() == std::optional<int>{0});
}
