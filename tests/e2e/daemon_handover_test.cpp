// Per-sensor order across a handover (CONTRACT §7, Sharing): 8 sensors send increasing values
// while one daemon holds both shards; a second daemon joins mid-stream and takes one shard over
// (the first drains it, checkpoints and releases it; the second restores it, then consumes).
// Every sensor ends with its last reading at its maximum, counted once, and its one alert comes
// at exactly the reading a single daemon would raise it on (the warning counter crossed the
// handover in the checkpoint).
#include "shard_members.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

// Its own namespace: the unity build compiles several test files as one.
namespace daemon_handover_test {

using namespace telluride::test;

namespace {

constexpr int sensors = 8;
constexpr int per_sensor = 300;
constexpr double threshold = 150.0;
constexpr int alert_after = 150;  // readings 151..300 warn in a row: the alert is the last reading's

std::string key_of(int sensor) {
  return "1/1/" + std::to_string(sensor);
}

} // namespace

TEST_CASE("readings of a sensor keep their order across a handover: last reading at the max, the alert where one daemon raises it") {
  // 100 readings/s (the rate limit holds over all producers): the second daemon joins once the
  // sensors passed 150 and takes its shard over before they reach 300, so the warning counters
  // cross the handover. A small prefetch keeps the drain of the handover short at that rate (it
  // applies what the channel took).
  const auto id = std::to_string(::getpid());
  daemon_process a{"handover" + id,
                   {{"shards", 2}, {"rate_limit_allowed", 10}, {"rate_limit_interval", 100}, {"prefetch_count", 20},
                    {"alert_after", alert_after}, {"alert_thresholds", {{"default", threshold}}}}};
  daemon_process b{"handoverb" + id};
  launch_member(a, a, "node-a");
  REQUIRE(eventually([&] { return active_shards(a.port()).size() == 2; }, 10s));

  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  for (int value = 1; value <= per_sensor; ++value)
    for (int sensor = 0; sensor < sensors; ++sensor) {
      nlohmann::json body{{"line_id", 1}, {"device_id", 1}, {"sensor_id", sensor}, {"reading", value},
                          {"timestamp", "2026-12-01T10:00:00." + std::to_string(100000 + value).substr(1) + "Z"}};
      s.publish(a.route("exchange"), a.route("readings_routing_key"), body.dump(),
                "handover-" + std::to_string(sensor) + "-" + std::to_string(value), {}, {{"sensor_key", key_of(sensor)}});
    }
  s.wait_confirms();

  REQUIRE(eventually([&] { return metric_of(a.port(), "telluride_amqp_consumed_total") >= sensors * threshold; }, 30s));
  launch_member(b, a, "node-b");
  CHECK(eventually([&] { return shards_split({a.port(), b.port()}, 2); }, 15s));
  CHECK(a.log().find("released (drained and checkpointed in") != std::string::npos);
  CHECK(b.log().find("taken with epoch 2: restored in") != std::string::npos);
  // The shard node-b took holds sensors whose readings crossed the handover.
  auto taken = shards_of(b.port());
  std::uint64_t moved = 0;
  for (const auto& row : taken["shards"])
    if (row["state"] == "active")
      moved += row["sensors"].get<std::uint64_t>();
  CHECK(moved > 0);

  aggregate_view aggregates;
  CHECK(eventually(
    [&] {
      aggregates.update(s, a);
      if (aggregates.latest().size() != sensors)
        return false;
      for (const auto& [key, latest] : aggregates.latest())
        if (latest["total_reads"] != per_sensor)
          return false;
      return true;
    },
    60s));
  REQUIRE(aggregates.latest().size() == sensors);
  for (const auto& [key, latest] : aggregates.latest()) {
    INFO("sensor " << key << ": " << latest.dump());
    CHECK(latest["total_reads"] == per_sensor);
    CHECK(latest["min"] == 1.0);
    CHECK(latest["max"] == per_sensor);
    CHECK(latest["last_reading"] == per_sensor);
    CHECK(latest["mean"] == (per_sensor + 1) / 2.0);
  }
  std::map<int, std::vector<nlohmann::json>> alerts;
  for (auto& m : s.drain(a.route("alerts_queue"))) {
    auto j = nlohmann::json::parse(m.body);
    alerts[j["sensor_id"].get<int>()].push_back(j);
  }
  CHECK(alerts.size() == sensors);
  for (const auto& [sensor, list] : alerts) {
    INFO("sensor " << sensor);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["reading"] == threshold + alert_after);
    CHECK(list[0]["consecutive"] == alert_after);
  }
  for (int shard = 0; shard < 2; ++shard) {
    auto queue = amqp_test::list_queue(a.route("readings_queue") + "." + std::to_string(shard));
    CHECK(queue.ready == 0);
    CHECK(queue.unacked == 0);
  }
  CHECK(b.stop() == std::optional<int>{0});
  CHECK(a.stop() == std::optional<int>{0});
}

} // namespace daemon_handover_test
