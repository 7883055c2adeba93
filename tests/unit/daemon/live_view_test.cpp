// The live snapshot of GET /api/stream from one daemon_snapshot, the rates between two, the
// alerts remembered for it, and when the feed publishes: no actors, no broker, no clock.
#include "telluride/daemon/feed_schedule.hpp"
#include "telluride/daemon/live_view.hpp"
#include "telluride/daemon/recent_alerts.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace telluride;
using namespace std::chrono_literals;

namespace {

daemon_snapshot sample(std::int64_t taken_ms, std::uint64_t successful, std::uint64_t failed) {
  daemon_snapshot s;
  s.started_ms = 1'000;
  s.taken_ms = taken_ms;
  s.config_version = 2;
  s.ready = {true, true, std::nullopt};
  s.totals.total_successful_count = successful;
  s.totals.total_failed_count = failed;
  s.totals.total_message_count = successful + failed;
  s.duplicates = 1;
  s.readings.delivered = successful + failed + 5;
  s.readings.acked = successful + failed;
  s.sensors = 12;
  s.alerts = 3;
  s.published.published = 40;
  node_metric stage;
  stage.kind = causeway::stage_kind::batch_processor;
  stage.name = "sensor_batcher_one";
  stage.partition = 1;
  stage.call_count = 4;
  stage.msg_count = 400;
  stage.sma_duration = 250;
  stage.mean_duration = 200;
  stage.max_duration = 900;
  stage.workload = 0.375;
  s.stages = {stage};
  return s;
}

} // namespace

TEST_CASE("rates are the totals' growth over the time between two snapshots") {
  auto r = rates_between(sample(10'000, 100, 10), sample(12'000, 500, 30));
  CHECK(r.messages_per_second == doctest::Approx(210.0));
  CHECK(r.successful_per_second == doctest::Approx(200.0));
  CHECK(r.failed_per_second == doctest::Approx(10.0));
  auto none = rates_between(sample(12'000, 100, 10), sample(12'000, 500, 30));
  CHECK(none.messages_per_second == 0.0);
}

TEST_CASE("the live snapshot carries totals, rates, stages with workload, shards, version, alerts and CPU") {
  shard_board_view shards{"node-a", 2, {{0, "q.0", "node-a", "active", 7, 12}, {1, "q.1", "node-b", "standby", 0, 0}},
                          {"node-a", "node-b"}};
  std::vector<std::string> alerts{R"({"event":"threshold_exceeded","sensor_id":1})", "not json",
                                  R"({"event":"threshold_exceeded","sensor_id":2})"};
  auto doc = live_snapshot_json(sample(12'000, 990, 10), live_rates{50, 49, 1}, shards, alerts, {12.5, 100.0});
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "node": "node-a", "taken_ms": 12000, "started_ms": 1000, "config_version": 2,
    "status": {"ready": true, "reason": null, "consuming": true, "broker_connected": true},
    "totals": {"messages": 1000, "successful": 990, "failed": 10, "successful_percent": 99.0,
               "duplicates": 1, "in_flight": 5, "sensors": 12, "alerts": 3, "published": 40},
    "rates": {"messages_per_second": 50.0, "successful_per_second": 49.0, "failed_per_second": 1.0},
    "stages": [{"node_type": "batch_processor", "name": "sensor_batcher_one", "partition": 1,
                "call_count": 4, "msg_count": 400, "sma_duration": 250.0, "mean_duration": 200.0,
                "max_duration": 900.0, "workload": 0.375}],
    "shards": {"node": "node-a", "members": ["node-a", "node-b"], "shards": [
      {"shard": 0, "queue": "q.0", "owner": "node-a", "state": "active", "sensors": 7, "checkpoint_lag_ms": 12},
      {"shard": 1, "queue": "q.1", "owner": "node-b", "state": "standby", "sensors": 0, "checkpoint_lag_ms": 0}]},
    "alerts": [{"event": "threshold_exceeded", "sensor_id": 1}, {"event": "threshold_exceeded", "sensor_id": 2}],
    "cpu_percent": [12.5, 100.0]
  })");
  CHECK(doc == expected);
}

TEST_CASE("the live snapshot says why the daemon is not ready, and has no success share before any reading") {
  auto s = sample(12'000, 0, 0);
  s.ready.consuming = false;
  auto doc = live_snapshot_json(s, {}, shard_board_view{"n", 1, {}, {}}, {}, {});
  CHECK(doc["status"]["ready"] == false);
  CHECK(doc["status"]["reason"] == "the readings pipeline is restarting");
  CHECK(doc["totals"]["successful_percent"].is_null());
  CHECK(doc["shards"]["shards"].empty());
  CHECK(doc["alerts"].empty());
  CHECK(doc["cpu_percent"] == nlohmann::json::array());
}

TEST_CASE("recent alerts keep the last ones, oldest first, and count them all") {
  recent_alerts ring{3};
  CHECK(ring.latest().empty());
  for (int i = 1; i <= 5; ++i)
    ring.add(std::string(1, 'a').append(std::to_string(i)));
  CHECK(ring.latest() == std::vector<std::string>{"a3", "a4", "a5"});
  CHECK(ring.total() == 5);
}

TEST_CASE("the feed publishes at first, every interval, and at once on a new version, ownership or status") {
  feed_schedule schedule{1000ms};
  const auto t0 = std::chrono::steady_clock::time_point{} + 50s;
  CHECK(schedule.is_due(t0, 0, "", ""));
  schedule.published(t0, 0, "0=a/active;", "");
  CHECK_FALSE(schedule.is_due(t0 + 999ms, 0, "0=a/active;", ""));
  CHECK(schedule.is_due(t0 + 1000ms, 0, "0=a/active;", ""));
  CHECK(schedule.is_due(t0 + 100ms, 1, "0=a/active;", ""));          // config applied
  CHECK(schedule.is_due(t0 + 100ms, 0, "0=b/active;", ""));          // the shard changed hands
  CHECK(schedule.is_due(t0 + 100ms, 0, "0=a/handing_over;", ""));    // and its state
  CHECK(schedule.is_due(t0 + 100ms, 0, "0=a/active;", "the readings pipeline is restarting"));  // a drain
  schedule.published(t0 + 100ms, 1, "0=a/active;", "");
  CHECK_FALSE(schedule.is_due(t0 + 1099ms, 1, "0=a/active;", ""));
  CHECK(schedule.is_due(t0 + 1100ms, 1, "0=a/active;", ""));
  // While the broker is away the snapshot that said so is not repeated before the interval; the
  // one after it comes at once when the broker is back.
  schedule.published(t0 + 1200ms, 1, "0=a/active;", "the broker connection is down");
  CHECK_FALSE(schedule.is_due(t0 + 1300ms, 1, "0=a/active;", "the broker connection is down"));
  CHECK(schedule.is_due(t0 + 1300ms, 1, "0=a/active;", ""));
}

TEST_CASE("a feed nobody viewed forgets its last snapshot: the next is due at once, whatever changed") {
  feed_schedule schedule{1000ms};
  const auto t0 = std::chrono::steady_clock::time_point{} + 50s;
  schedule.published(t0, 3, "0=a/active;", "");
  CHECK_FALSE(schedule.is_due(t0 + 10ms, 3, "0=a/active;", ""));
  schedule.forget();
  CHECK(schedule.is_due(t0 + 10ms, 3, "0=a/active;", ""));
}
