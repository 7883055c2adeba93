#include "daemon_checks.hpp"

#include "telluride/domain/sensor_quota.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

using namespace telluride::test;

namespace {

std::string reading_body(int sensor, double value, const std::string& timestamp) {
  return nlohmann::json{{"line_id", 1}, {"device_id", 2}, {"sensor_id", sensor}, {"reading", value},
                        {"timestamp", timestamp}}
    .dump();
}

std::string key_of(int sensor) {
  return "1/2/" + std::to_string(sensor);
}

/// Reading k (0..4) of a sensor: sensor 1 reads ±1e308 (mean 0, stddev 1e308·√0.8), the
/// others 20 + sensor + k/4.
double value_of(int sensor, int k) {
  if (sensor == 1)
    return k == 4 ? 0.0 : (k % 2 == 0 ? 1e308 : -1e308);
  return 20 + sensor + k * 0.25;
}

std::string timestamp_of(int k) {
  return "2026-11-22T10:00:0" + std::to_string(k) + "Z";
}

expected_aggregate expected_of(int sensor) {
  expected_aggregate e;
  e.count = 5;
  long double sum = 0;
  e.min = e.max = value_of(sensor, 0);
  for (int k = 0; k < 5; ++k) {
    sum += value_of(sensor, k);
    e.min = std::min(e.min, value_of(sensor, k));
    e.max = std::max(e.max, value_of(sensor, k));
  }
  const long double mean = sum / 5;
  long double squares = 0;
  for (int k = 0; k < 5; ++k)
    squares += (value_of(sensor, k) - mean) * (value_of(sensor, k) - mean);
  e.mean = static_cast<double>(mean);
  e.stddev = static_cast<double>(std::sqrt(squares / 5));
  e.last = value_of(sensor, 4);
  e.last_timestamp = timestamp_of(4);
  return e;
}

} // namespace

TEST_CASE("with max_sensors 10, the first 10 sensors are counted exactly and the others' readings are dead-lettered") {
  daemon_process d{"bound" + std::to_string(::getpid()), {{"max_sensors", 10}}};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  CHECK(metric_of(d.port(), "telluride_sensors_max") == 10);
  CHECK(metric_of(d.port(), "telluride_sensors_tracked") == 0);
  auto publish = [&](int sensor, int k) {
    s.publish(d.route("exchange"), d.route("readings_routing_key"), reading_body(sensor, value_of(sensor, k), timestamp_of(k)),
              "bound-" + std::to_string(sensor) + "-" + std::to_string(k));
  };
  // Sensors 1..10 first, until the daemon has them all; then four rounds over sensors 1..15.
  for (int sensor = 1; sensor <= 10; ++sensor)
    publish(sensor, 0);
  s.wait_confirms();
  REQUIRE(eventually([&] { return metric_of(d.port(), "telluride_sensors_tracked") == 10; }, 20s));
  for (int k = 1; k <= 4; ++k)
    for (int sensor = 1; sensor <= 15; ++sensor)
      publish(sensor, k);
  s.wait_confirms();

  std::map<std::string, expected_aggregate> want;
  for (int sensor = 1; sensor <= 10; ++sensor)
    want[key_of(sensor)] = expected_of(sensor);
  aggregate_view aggregates;
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 30s));
  aggregates.check(want);  // exactly the ten sensors, every field
  CHECK(aggregates.latest().at(key_of(1))["mean"].get<double>() == 0);

  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() == 70; }, 20s));
  CHECK(totals.successful() == 50);
  CHECK(totals.failed() == 20);

  std::vector<received> dead;
  CHECK(eventually([&] {
    for (auto& m : s.drain(d.route("dead_letter_queue")))
      dead.push_back(std::move(m));
    return dead.size() >= 20;
  }, 20s));
  REQUIRE(dead.size() == 20);
  std::map<int, int> refused_per_sensor;
  for (const auto& m : dead) {
    const auto body = nlohmann::json::parse(m.body);
    const int sensor = body["sensor_id"].get<int>();
    ++refused_per_sensor[sensor];
    REQUIRE(m.headers.count("x-telluride-reason") == 1);
    CHECK(m.headers.at("x-telluride-reason") ==
          "sensor 1/2/" + std::to_string(sensor) + " is not tracked: max_sensors (10) sensors are tracked already");
  }
  CHECK(refused_per_sensor == std::map<int, int>{{11, 4}, {12, 4}, {13, 4}, {14, 4}, {15, 4}});

  CHECK(metric_of(d.port(), "telluride_sensors_tracked") == 10);
  CHECK(metric_of(d.port(), "telluride_sensor_readings_refused_total") == 20);
  CHECK(metric_of(d.port(), "telluride_readings_total{outcome=\"failed\"}") == 20);
  CHECK(metric_of(d.port(), "telluride_readings_total{outcome=\"successful\"}") == 50);
  CHECK(http_request(d.port(), "GET", "/api/sensors/1/2/12").status == 404);
  CHECK(http_request(d.port(), "GET", "/api/sensors/1/2/10").status == 200);

  CHECK(d.stop() == std::optional<int>{0});
  const std::string log = d.log();
  std::size_t reached = 0;
  for (auto at = log.find("max_sensors reached"); at != std::string::npos; at = log.find("max_sensors reached", at + 1))
    ++reached;
  CHECK(reached == 1);
  CHECK(log.find("is not tracked") == std::string::npos);  // refused readings are not logged one by one
  CHECK(log.find("tracking at most 10 sensors (max_sensors)") != std::string::npos);
  CHECK(s.ready(d.route("readings_queue")) == 0);
}

TEST_CASE("--max-sensors overrides the config file, and a bad value is one line naming the key") {
  daemon_process d{"boundflag" + std::to_string(::getpid()), {{"max_sensors", 10}}};
  d.launch({"pipeline", "--config", d.config_path(), "--max-sensors", "-1"});
  CHECK(eventually([&] { return d.exited(); }, 10s));
  CHECK(d.log() == "telluride pipeline: max_sensors must be an integer in 0..1000000000, got -1\n");

  daemon_process sized{"boundmem" + std::to_string(::getpid())};
  sized.launch({"pipeline", "--config", sized.config_path(), "--max-sensors", "0"});
  CHECK(eventually([&] { return http_request(sized.port(), "GET", "/readyz").status == 200; }, 20s));
  const double bound = metric_of(sized.port(), "telluride_sensors_max");
  CHECK(bound == static_cast<double>(telluride::max_sensors_for_memory(
                   static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE)))));
  CHECK(sized.log().find("sensors (max_sensors 0: a quarter of physical memory at 256 bytes per sensor)") != std::string::npos);
  CHECK(sized.stop() == std::optional<int>{0});
}
