// Durable mode (CONTRACT §7) as users run it: a clean restart goes on from exactly the state
// the previous process acknowledged (aggregates, alert counters, the alerts count) with nothing
// delivered twice; memory mode still starts from zero; while checkpoints fail the daemon says so
// on /readyz and acknowledges nothing, and catches up once they succeed again.
#include "daemon_checks.hpp"

#include <doctest/doctest.h>

#include <cmath>

// Its own namespace: the unity build compiles several test files as one.
namespace durable_e2e {

using namespace telluride::test;

namespace {

// Readings of the set are temperatures (20..60): below the temperature threshold, they raise no
// alert. The excursion sensor sends humidity readings above its threshold.
const nlohmann::json alert_config{{"alert_after", 3},
                                  {"alert_thresholds", {{"default", 1000.0}, {"temperature", 1000.0}, {"humidity", 50.0}}}};

std::string excursion_reading(double value, int second) {
  return nlohmann::json{{"line_id", 7},      {"device_id", 8},
                        {"sensor_id", 9},    {"reading", value},
                        {"type", "humidity"}, {"timestamp", "2026-12-01T10:00:0" + std::to_string(second) + "Z"}}
    .dump();
}

std::vector<nlohmann::json> take_alerts(amqp_session& s, const daemon_process& d) {
  std::vector<nlohmann::json> out;
  for (auto& m : s.drain(d.route("alerts_queue")))
    out.push_back(nlohmann::json::parse(m.body));
  return out;
}

} // namespace

TEST_CASE("a clean restart in durable mode keeps exact aggregates and alert counters and redelivers nothing") {
  daemon_process d{"durable" + std::to_string(::getpid()), alert_config};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{40, 4000, 17, "restart"};
  publish_readings(s, d, set, 0, 2000);
  // The excursion sensor: two warnings before the restart.
  s.publish(d.route("exchange"), d.route("readings_routing_key"), excursion_reading(60.0, 1), "excursion-1");
  s.publish(d.route("exchange"), d.route("readings_routing_key"), excursion_reading(61.0, 2), "excursion-2");
  s.wait_confirms();
  auto want = set.expected(2000);
  want["7/8/9"] = expected_aggregate{2, 60.0, 61.0, 60.5, 0.5, 61.0, "2026-12-01T10:00:02Z"};
  aggregate_view before;
  CHECK(eventually([&] { before.update(s, d); return before.matches(want); }, 60s));
  before.check(want);

  CHECK(d.stop() == std::optional<int>{0});
  // A clean stop leaves nothing unacknowledged: nothing will be delivered again.
  auto queue = amqp_test::list_queue(d.route("readings_queue"));
  CHECK(queue.ready == 0);
  CHECK(queue.unacked == 0);
  CHECK(take_alerts(s, d).empty());

  d.start();
  CHECK(d.log().find("shard 0 restored from " + nlohmann::json::parse(std::ifstream(d.config_path()))["state_stream"]
                       .get<std::string>() + " in ") != std::string::npos);
  CHECK(d.log().find(": 41 sensors, 0 alerts raised") != std::string::npos);
  CHECK(metric_of(d.port(), "telluride_restored_sensors") == 41);
  CHECK(metric_of(d.port(), "telluride_sensors_tracked") == 41);  // restored sensors hold their places
  CHECK(metric_of(d.port(), "telluride_owner_epoch") == 2);

  // The third warning in a row, after the restart: the alert.
  s.publish(d.route("exchange"), d.route("readings_routing_key"), excursion_reading(62.0, 3), "excursion-3");
  publish_readings(s, d, set, 2000, 4000);
  want = set.expected(4000);
  want["7/8/9"] = expected_aggregate{3, 60.0, 62.0, 61.0, std::sqrt(2.0 / 3.0), 62.0, "2026-12-01T10:00:03Z"};
  aggregate_view after;
  CHECK(eventually([&] { after.update(s, d); return after.matches(want); }, 60s));
  after.check(want);

  std::vector<nlohmann::json> alerts;
  CHECK(eventually([&] {
    auto more = take_alerts(s, d);
    alerts.insert(alerts.end(), more.begin(), more.end());
    return !alerts.empty();
  }, 30s));
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0]["sensor_id"] == 9);
  CHECK(alerts[0]["reading"] == 62.0);
  CHECK(alerts[0]["consecutive"] == 3);
  CHECK(metric_of(d.port(), "telluride_alerts_total") == 1);
  CHECK(metric_of(d.port(), "telluride_readings_duplicate_total") == 0);
  // Throughput totals stay per process: this one counted what it was given.
  CHECK(eventually([&] { return metric_of(d.port(), "telluride_readings_total{outcome=\"successful\"}") == 2001; }, 30s));
  // The sensor's own count of alerts, in the listing; the sensor's route is its aggregate message.
  auto excursion = nlohmann::json::parse(http_request(d.port(), "GET", "/api/sensors/7/8/9").body);
  CHECK(excursion.size() == 10);
  CHECK_FALSE(excursion.contains("alerts"));
  CHECK(excursion["total_reads"] == 3);
  auto listed = nlohmann::json::parse(http_request(d.port(), "GET", "/api/sensors?q=7/8/9").body);
  REQUIRE(listed["sensors"].size() == 1);
  CHECK(listed["sensors"][0]["alerts"] == 1);
  auto without_alerts = listed["sensors"][0];
  without_alerts.erase("alerts");
  CHECK(without_alerts == excursion);

  CHECK(d.stop() == std::optional<int>{0});
  queue = amqp_test::list_queue(d.route("readings_queue"));
  CHECK(queue.ready == 0);
  CHECK(queue.unacked == 0);

  // Restored from the checkpoints: the sensor's count of alerts comes back with it.
  d.start();
  CHECK(d.log().find(": 41 sensors, 1 alerts raised") != std::string::npos);
  listed = nlohmann::json::parse(http_request(d.port(), "GET", "/api/sensors?q=7/8/9").body);
  REQUIRE(listed["sensors"].size() == 1);
  CHECK(listed["sensors"][0]["alerts"] == 1);
  CHECK(listed["sensors"][0]["total_reads"] == 3);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("in memory mode a restart counts from zero, as before durable state") {
  daemon_process d{"memory" + std::to_string(::getpid()), {{"state", "memory"}}};
  d.start();
  // The line naming the state follows the HTTP server's start, which start() waits for.
  CHECK(eventually([&] { return d.log().find("state in memory") != std::string::npos; }, 10s));
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{20, 400, 19, "mem"};
  publish_readings(s, d, set, 0, 200);
  aggregate_view first;
  CHECK(eventually([&] { first.update(s, d); return first.matches(set.expected(200)); }, 60s));
  CHECK(d.stop() == std::optional<int>{0});

  d.start();
  CHECK(d.log().find("restored") == std::string::npos);
  CHECK(metric_of(d.port(), "telluride_checkpoint_rounds_total{outcome=\"confirmed\"}") == -1);
  publish_readings(s, d, set, 200, 400);
  std::vector<const reading_message*> second_half;
  for (std::size_t i = 200; i < 400; ++i)
    second_half.push_back(&set.messages()[i]);
  aggregate_view second;
  CHECK(eventually([&] { second.update(s, d); return second.matches(set.expected_of(second_half)); }, 60s));
  second.check(set.expected_of(second_half));
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("while checkpoints fail /readyz is 503 naming them and nothing is acknowledged, then everything is") {
  daemon_process d{"ckfail" + std::to_string(::getpid())};
  d.start();
  const auto stream = nlohmann::json::parse(std::ifstream(d.config_path()))["state_stream"].get<std::string>();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  e2e::broker_admin admin;
  // Checkpoints go to the exchange named like the stream: without it every round fails.
  REQUIRE(causeway::amqp::delete_exchange(admin.connection(), stream).has_value());
  reading_set set{30, 600, 23, "ckfail"};
  publish_readings(s, d, set, 0, 600);
  CHECK(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 503; }, 30s));
  auto readyz = nlohmann::json::parse(http_request(d.port(), "GET", "/readyz").body);
  CHECK(readyz["reason"].get<std::string>().starts_with("checkpoints: "));
  CHECK(eventually([&] { return metric_of(d.port(), "telluride_readings_total{outcome=\"successful\"}") == 600; }, 30s));
  std::this_thread::sleep_for(500ms);  // several more failed rounds
  CHECK(metric_of(d.port(), "telluride_checkpoint_rounds_total{outcome=\"failed\"}") >= 2);
  CHECK(metric_of(d.port(), "telluride_checkpoint_held") == 600);
  CHECK(amqp_test::list_queue(d.route("readings_queue")).unacked == 600);
  auto log = d.log();
  std::size_t lines = 0;
  for (auto at = log.find("checkpoint failed: "); at != std::string::npos; at = log.find("checkpoint failed: ", at + 1))
    ++lines;
  CHECK(lines == 1);  // one line, not one per round

  causeway::amqp::topology_spec back;
  back.exchanges.push_back({stream, "fanout", true, false, {}});
  back.bindings.push_back({stream, stream, "", {}});
  admin.declare(back);
  CHECK(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 30s));
  CHECK(eventually([&] { return amqp_test::list_queue(d.route("readings_queue")).unacked == 0; }, 30s));
  CHECK(d.log().find("checkpoints confirmed again after ") != std::string::npos);
  aggregate_view aggregates;
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(set.expected(600)); }, 30s));
  aggregates.check(set.expected(600));
  CHECK(d.stop() == std::optional<int>{0});

  // What the stream holds restores exactly what was acknowledged.
  d.start();
  CHECK(metric_of(d.port(), "telluride_restored_sensors") == 30);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("the state stream deleted under a running daemon: nothing is acknowledged into it unseen, the daemon "
          "declares it again, and a kill -9 after that restores every reading") {
  daemon_process d{"streamgone" + std::to_string(::getpid()), {{"checkpoint_interval_ms", 50}}};
  d.start();
  const auto stream = nlohmann::json::parse(std::ifstream(d.config_path()))["state_stream"].get<std::string>();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  e2e::broker_admin admin;
  reading_set set{30, 1500, 31, "streamgone"};
  auto acknowledged = [&](double readings) {
    return eventually([&] {
      return metric_of(d.port(), "telluride_readings_total{outcome=\"successful\"}") == readings &&
             amqp_test::list_queue(d.route("readings_queue")).unacked == 0;
    }, 30s);
  };
  publish_readings(s, d, set, 0, 500);
  REQUIRE(acknowledged(500));

  // Gone with the stream: every record it held, and its binding. The broker confirms what is
  // published to the exchange after this and drops it.
  REQUIRE(causeway::amqp::delete_queue(admin.connection(), stream).has_value());
  publish_readings(s, d, set, 500, 1000);
  CHECK(acknowledged(1000));
  CHECK(d.log().find("the broker routed the checkpoint to no queue (the state stream, or its binding to its exchange, "
                     "is gone); declared them again") != std::string::npos);
  CHECK(metric_of(d.port(), "telluride_checkpoint_rounds_total{outcome=\"failed\"}") >= 1);
  CHECK(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 30s));

  // Killed: the new stream alone holds the state (the snapshots written after it came back).
  CHECK(d.stop(SIGKILL) == std::optional<int>{128 + SIGKILL});
  d.start();
  CHECK(metric_of(d.port(), "telluride_restored_sensors") == 30);
  publish_readings(s, d, set, 1000, 1500);
  aggregate_view aggregates;
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(set.expected(1500)); }, 60s));
  aggregates.check(set.expected(1500));
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("a state stream whose records do not fold stops the start with one line naming the shard and sequence") {
  daemon_process d{"badstate" + std::to_string(::getpid())};
  d.start();  // declares the stream; its claim and its first (empty) snapshot go there
  CHECK(d.stop() == std::optional<int>{0});
  const auto stream = nlohmann::json::parse(std::ifstream(d.config_path()))["state_stream"].get<std::string>();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  s.publish(stream, "", "TLSR, but no record", "garbage");
  s.wait_confirms();

  d.launch({"pipeline", "--config", d.config_path()});
  CHECK(d.wait(30s) == std::optional<int>{1});
  const std::string line = "telluride pipeline: cannot restore from the state stream " + stream +
                           ": shard 0: the record after sequence 1 does not decode: checkpoint record: ";
  const auto log = d.log();
  CHECK_MESSAGE(log.find(line) != std::string::npos, log);
  CHECK(log.find("HTTP on") == std::string::npos);  // it never started consuming
}

} // namespace durable_e2e
