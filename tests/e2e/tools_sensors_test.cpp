// `telluride sensors`: what it publishes, how much, how fast, and how reproducibly.
#include "e2e_support.hpp"

#include "telluride/tools/sensor_fleet.hpp"
#include "telluride/tools/token_bucket.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace e2e;
using telluride::tools::token_bucket;

TEST_CASE("the token bucket hands out rate x time tokens, in bursts per tick, up to its capacity") {
  const auto t0 = token_bucket::clock::time_point{} + 1h;
  token_bucket bucket(1000.0, 50.0, t0);
  CHECK(bucket.take(t0, 100) == 0);
  // 1 ms ticks for one second: exactly 1000 tokens in all.
  std::uint64_t total = 0;
  for (int tick = 1; tick <= 1000; ++tick)
    total += bucket.take(t0 + std::chrono::milliseconds(tick), 1000000);
  CHECK(total == 1000);
  // A 1 s stall refills only up to the capacity.
  CHECK(bucket.take(t0 + 2s, 1000000) == 50);
  // `wanted` caps what is taken; the rest stays.
  CHECK(bucket.take(t0 + 2s + 10ms, 4) == 4);
  CHECK(bucket.take(t0 + 2s + 10ms, 100) == 6);
  CHECK(bucket.time_to_next_token(t0 + 2s + 10ms) == std::chrono::milliseconds(1));
  bucket.set_rate(10.0, t0 + 2s + 10ms);
  CHECK(bucket.time_to_next_token(t0 + 2s + 10ms) == std::chrono::milliseconds(100));
}

TEST_CASE("sensor fleets: every third sensor has string ids, values come from the seed") {
  telluride::tools::fleet_options options;
  options.count = 30;
  options.seed = 7;
  options.hot_share = 0;
  auto fleet = telluride::tools::sensor_fleet::create(options);
  REQUIRE(fleet);
  for (std::size_t i = 0; i < 30; ++i) {
    const auto& s = fleet->sensor(i);
    CAPTURE(i);
    CHECK(s.sensor_id.is_integer() == (i % 3 != 2));
    CHECK(s.line_id.is_integer() == (i % 3 != 2));
  }
  CHECK(fleet->sensor(0).sensor_id.integer() == 1);
  CHECK(fleet->sensor(2).sensor_id.text() == "sensor-3");
  CHECK(fleet->sensor(2).line_id.text() == "line-1");
  CHECK(fleet->sensor(25).device_id.integer() == 3);

  auto again = telluride::tools::sensor_fleet::create(options);
  options.seed = 8;
  auto other = telluride::tools::sensor_fleet::create(options);
  int differences = 0;
  for (std::size_t i = 0; i < 30; ++i) {
    double a = fleet->next_value(i);
    CHECK(a == again->next_value(i));
    differences += a != other->next_value(i) ? 1 : 0;
  }
  CHECK(differences > 25);

  std::string json;
  fleet->append_reading(json, 2, 12.5, "2021-02-12T01:18:51.838675Z");
  CHECK(json == R"({"line_id":"line-1","device_id":"device-1","sensor_id":"sensor-3","reading":12.5,)"
                R"("timestamp":"2021-02-12T01:18:51.838675Z","type":")" + fleet->sensor(2).type + "\"}");
}

TEST_CASE("a hot sensor's mean sits just under its type's alert threshold, and unknown types are refused") {
  telluride::tools::fleet_options options;
  options.count = 20;
  options.seed = 3;
  options.hot_share = 1.0;
  options.types = {"humidity"};
  options.thresholds = {{"default", 100.0}, {"humidity", 90.0}};
  auto fleet = telluride::tools::sensor_fleet::create(options);
  REQUIRE(fleet);
  for (std::size_t i = 0; i < fleet->size(); ++i) {
    CHECK(fleet->sensor(i).is_hot);
    CHECK(fleet->sensor(i).type == "humidity");
    CHECK(fleet->sensor(i).mean == doctest::Approx(90.0 - 0.5 * fleet->sensor(i).stddev));
  }
  options.types = {"plasma"};
  auto bad = telluride::tools::sensor_fleet::create(options);
  REQUIRE_FALSE(bad);
  CHECK(bad.err().message.find("plasma") != std::string::npos);
}

TEST_CASE("timestamps are ISO 8601 UTC with microseconds") {
  using telluride::tools::iso8601_from_epoch_us;
  CHECK(iso8601_from_epoch_us(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(iso8601_from_epoch_us(1613092731838675) == "2021-02-12T01:18:51.838675Z");
  CHECK(iso8601_from_epoch_us(951782400000001) == "2000-02-29T00:00:00.000001Z");
}

TEST_CASE("sensors --messages 5000 leaves exactly 5000 persistent JSON readings with unique message ids") {
  test_routes routes("sensors");
  auto result = run(telluride_command({"sensors", "--config", routes.path(), "--count", "100", "--rate", "100000",
                               "--messages", "5000", "--seed", "11", "--quiet", "--json"},
                              50s));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto summary = nlohmann::json::parse(result.out);
  CHECK(summary["sent"] == 5000);
  CHECK(summary["confirmed"] == 5000);
  CHECK(summary["nacked"] == 0);
  CHECK(summary["seed"] == 11);

  broker_admin admin;
  const auto queue = routes.name("readings_queue");
  CHECK(admin.wait_for_count(queue, 5000) == 5000);
  // Persistent (delivery mode 2): the broker counts them as persistent messages.
  bool found = false;
  for (const auto& line : split_lines(broker_ctl("list_queues --no-table-headers name messages_persistent"))) {
    if (line.starts_with(queue + "\t")) {
      found = true;
      CHECK(line == queue + "\t5000");
    }
  }
  CHECK(found);
  auto readings = admin.drain(queue, 5000);
  REQUIRE(readings.size() == 5000);
  std::set<std::string> ids;
  std::set<std::string> sensors;
  std::size_t string_ids = 0;
  for (const auto& r : readings) {
    ids.insert(r.message_id);
    CHECK(r.content_type == "application/json");
    auto reading = nlohmann::json::parse(r.body);
    REQUIRE(reading.is_object());
    CHECK(reading.size() == 6);
    CHECK(reading["reading"].is_number());
    CHECK(reading["type"].is_string());
    const auto timestamp = reading["timestamp"].get<std::string>();
    CHECK(timestamp.size() == 27);  // YYYY-MM-DDThh:mm:ss.uuuuuuZ
    CHECK(timestamp.ends_with("Z"));
    string_ids += reading["sensor_id"].is_string() ? 1 : 0;
    sensors.insert(reading["line_id"].dump() + "/" + reading["device_id"].dump() + "/" + reading["sensor_id"].dump());
  }
  CHECK(ids.size() == 5000);
  CHECK(sensors.size() == 100);
  CHECK(string_ids == 33 * 50);  // round-robin: 50 readings from each of the 33 sensors with string ids
  CHECK(admin.message_count(queue) == 0);
}

TEST_CASE("the same --seed gives the same readings (ids, types, values) while message ids stay unique per run") {
  test_routes routes("seed");
  broker_admin admin;
  const auto queue = routes.name("readings_queue");
  auto publish = [&](const std::string& seed) {
    auto result = run(telluride_command({"sensors", "--config", routes.path(), "--count", "10", "--rate", "10000",
                                 "--messages", "30", "--seed", seed, "--quiet"},
                                30s));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto got = admin.drain(queue, 30);
    REQUIRE(got.size() == 30);
    return got;
  };
  auto strip = [](const received& r) {
    auto reading = nlohmann::json::parse(r.body);
    reading.erase("timestamp");
    return reading.dump();
  };
  auto first = publish("42");
  auto second = publish("42");
  auto other = publish("43");
  int same_as_other = 0;
  for (std::size_t i = 0; i < 30; ++i) {
    CAPTURE(i);
    CHECK(strip(first[i]) == strip(second[i]));
    CHECK(first[i].message_id != second[i].message_id);
    same_as_other += strip(first[i]) == strip(other[i]) ? 1 : 0;
  }
  CHECK(same_as_other == 0);
}

TEST_CASE("--duration stops after that many seconds having held --rate") {
  test_routes routes("duration");
  auto started = std::chrono::steady_clock::now();
  auto result = run(telluride_command({"sensors", "--config", routes.path(), "--count", "20", "--rate", "400",
                               "--duration", "2", "--quiet", "--json"},
                              30s));
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto summary = nlohmann::json::parse(result.out);
  const auto sent = summary["sent"].get<long>();
  CHECK(sent >= 760);
  CHECK(sent <= 840);
  CHECK(summary["confirmed"] == sent);
  CHECK(seconds < 10);
  broker_admin admin;
  CHECK(admin.wait_for_count(routes.name("readings_queue"), sent) == sent);
}

TEST_CASE("ramp-up adds the sensors in batches: the rate grows with them") {
  test_routes routes("ramp");
  // 2 batches 1 s apart, 200 readings/s for all 10 sensors: ~100/s, then ~200/s.
  auto result = run(telluride_command({"sensors", "--config", routes.path(), "--count", "10", "--rate", "200",
                               "--ramp-batches", "2", "--ramp-interval", "1", "--duration", "2", "--quiet", "--json"},
                              30s));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto sent = nlohmann::json::parse(result.out)["sent"].get<long>();
  CHECK(sent >= 270);
  CHECK(sent <= 330);
  broker_admin admin;
  auto readings = admin.drain(routes.name("readings_queue"), static_cast<std::size_t>(sent));
  REQUIRE(readings.size() == static_cast<std::size_t>(sent));
  // The first ~100 readings come from the first batch (sensors 1..5) only.
  for (std::size_t i = 0; i < 90; ++i) {
    auto reading = nlohmann::json::parse(readings[i].body);
    auto id = reading["sensor_id"].is_number() ? reading["sensor_id"].get<int>()
                                               : std::stoi(reading["sensor_id"].get<std::string>().substr(7));
    CAPTURE(i);
    CHECK(id <= 5);
  }
}

TEST_CASE("SIGINT stops the simulator cleanly: everything sent is confirmed, exit 0") {
  test_routes routes("sigint");
  child_process sensors(telluride_command({"sensors", "--config", routes.path(), "--count", "5", "--rate", "200", "--json"}, 30s));
  broker_admin admin;
  const auto queue = routes.name("readings_queue");
  REQUIRE(wait_until([&] { return admin.message_count(queue) > 20; }, 20s, 50ms));
  sensors.send_signal(SIGINT);
  auto result = sensors.wait(20s);
  INFO(result.err);
  CHECK(result.exit_code == 0);
  auto summary = nlohmann::json::parse(result.out);
  CHECK(summary["confirmed"] == summary["sent"]);
  CHECK(admin.wait_for_count(queue, summary["sent"].get<long>()) == summary["sent"].get<long>());
}

TEST_CASE("a lost publishing connection is repaired: every reading is confirmed, none is missing") {
  test_routes routes("reconnect");
  broker_admin admin;
  const auto queue = routes.name("readings_queue");
  // 10 s of publishing: `rabbitmqctl list_connections` alone takes seconds on a loaded host, and the
  // connection must still be there when it answers.
  child_process sensors(telluride_command({"sensors", "--config", routes.path(), "--count", "10", "--rate", "400",
                                           "--messages", "4000", "--quiet", "--json"},
                                          60s));
  REQUIRE(wait_until([&] { return admin.message_count(queue) > 500; }, 20s, 20ms));
  // Close the simulator's connection from the broker's side (it is named after its pid).
  const std::string name = "telluride-sensors-" + std::to_string(sensors.pid());
  int closed = 0;
  for (const auto& line : split_lines(broker_ctl("list_connections --no-table-headers pid client_properties"))) {
    auto tab = line.find('\t');
    if (tab == std::string::npos || line.find("{\"connection_name\",\"" + name + "\"}") == std::string::npos)
      continue;
    broker_ctl("close_connection " + shell_quote(line.substr(0, tab)) + " 'e2e test'");
    ++closed;
  }
  CHECK(closed == 1);
  auto result = sensors.wait(55s);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto summary = nlohmann::json::parse(result.out);
  CHECK(summary["sent"] == 4000);
  CHECK(summary["confirmed"] == 4000);
  MESSAGE("republished after the loss: " << summary["republished"]);
  // At least once: each reading is there; a republished one may be there twice.
  const long count = admin.message_count(queue);
  CHECK(count >= 4000);
  auto readings = admin.drain(queue, static_cast<std::size_t>(count));
  std::set<std::string> ids;
  for (const auto& r : readings)
    ids.insert(r.message_id);
  CHECK(ids.size() == 4000);
}

namespace {

/// An id as the sensor_key header writes it: integers in decimal, strings as they are.
std::string key_part(const nlohmann::json& id) { return id.is_string() ? id.get<std::string>() : id.dump(); }

} // namespace

TEST_CASE("every reading carries the header sensor_key = line_id/device_id/sensor_id, ids as its JSON has them") {
  telluride::tools::fleet_options options;
  options.count = 3;
  auto fleet = telluride::tools::sensor_fleet::create(options);
  REQUIRE(fleet);
  CHECK(fleet->sensor_key_text(0) == "1/1/1");
  CHECK(fleet->sensor_key_text(2) == "line-1/device-1/sensor-3");

  test_routes routes("sensor-key");
  auto result = run(telluride_command({"sensors", "--config", routes.path(), "--count", "30", "--rate", "100000",
                                       "--messages", "300", "--seed", "5", "--quiet"},
                                      30s));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  broker_admin admin;
  auto readings = admin.drain(routes.name("readings_queue"), 300);
  REQUIRE(readings.size() == 300);
  std::set<std::string> keys;
  std::size_t string_keys = 0;
  for (const auto& r : readings) {
    const auto reading = nlohmann::json::parse(r.body);
    const auto headers = nlohmann::json::parse(r.headers);
    INFO(r.headers);
    REQUIRE(headers.is_object());
    CHECK(headers.size() == 1);
    const std::string expected =
      key_part(reading["line_id"]) + "/" + key_part(reading["device_id"]) + "/" + key_part(reading["sensor_id"]);
    CHECK(headers["sensor_key"] == expected);
    keys.insert(headers["sensor_key"].get<std::string>());
    string_keys += reading["sensor_id"].is_string() ? 1 : 0;
  }
  CHECK(keys.size() == 30);
  CHECK(string_keys == 100);  // sensors 3, 6, ..., 30 have string ids: 10 of 30, 10 readings each
  CHECK(keys.count("1/3/30") == 0);
  CHECK(keys.count("line-1/device-3/sensor-30") == 1);
  CHECK(keys.count("1/3/29") == 1);
}

TEST_CASE("with shards in its config the simulator declares the sharded route, and never binds the readings queue beside it") {
  test_routes routes("sensors-sharded", {{"shards", 3}});
  const auto readings_queue = routes.name("readings_queue");
  auto result = run(telluride_command({"sensors", "--config", routes.path(), "--count", "60", "--rate", "100000",
                                       "--messages", "600", "--seed", "9", "--quiet"},
                                      30s));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  broker_admin admin;
  auto shard_total = [&] {
    long total = 0;
    for (int shard = 0; shard < 3; ++shard)
      total += admin.message_count(readings_queue + "." + std::to_string(shard));
    return total;
  };
  CHECK(wait_until([&] { return shard_total() == 600; }, 10s));
  for (int shard = 0; shard < 3; ++shard)
    CHECK(admin.message_count(readings_queue + "." + std::to_string(shard)) > 0);
  CHECK(admin.message_count(readings_queue) == -1);  // not declared: readings go to the shards only

  // A simulator whose config says 1 shard finds the sharded exchange and leaves the route alone.
  std::ifstream in(routes.path());
  auto file = nlohmann::json::parse(in);
  file["shards"] = 1;
  const auto one_shard = routes.path() + ".one-shard.json";
  std::ofstream(one_shard) << file.dump();
  auto again = run(telluride_command({"sensors", "--config", one_shard, "--count", "10", "--rate", "100000",
                                      "--messages", "100", "--seed", "9", "--quiet"},
                                     30s));
  std::filesystem::remove(one_shard);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(wait_until([&] { return shard_total() == 700; }, 10s));
  CHECK(admin.message_count(readings_queue) == -1);
}
