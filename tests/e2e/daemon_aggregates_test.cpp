#include "daemon_checks.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace telluride::test;

TEST_CASE("20,000 readings over 300 sensors give exact aggregates and bad ones are dead-lettered") {
  daemon_process d{"agg" + std::to_string(::getpid())};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{300, 20'000, 7, "agg"};
  const std::vector<std::string> poison{
    "not json", "[1, 2, 3]", "{\"line_id\": 1, \"device_id\": 2, \"reading\": 3.0, \"timestamp\": \"2026-11-22T10:00:00Z\"}",
    "{\"line_id\": 1, \"device_id\": 2, \"sensor_id\": 3, \"reading\": \"abc\", \"timestamp\": \"2026-11-22T10:00:00Z\"}",
    "{\"line_id\": 1, \"device_id\": 2, \"sensor_id\": 3, \"reading\": 1.0, \"timestamp\": \"yesterday\"}", ""};
  publish_readings(s, d, set, 0, 10'000);
  for (std::size_t i = 0; i < poison.size(); ++i)
    s.publish(d.route("exchange"), d.route("readings_routing_key"), poison[i], "poison-" + std::to_string(i));
  publish_readings(s, d, set, 10'000, 20'000);

  aggregate_view aggregates;
  auto want = set.expected(20'000);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 60s));
  aggregates.check(want);

  // Ids echo their JSON types.
  const auto& first = set.ids()[0];   // string ids
  const auto& second = set.ids()[1];  // integer ids
  CHECK(aggregates.latest().at(first.key())["sensor_id"].is_string());
  CHECK(aggregates.latest().at(second.key())["sensor_id"].is_number_integer());

  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() == 20'000 + poison.size(); }, 30s));
  CHECK(totals.successful() == 20'000);
  CHECK(totals.failed() == poison.size());

  auto dead = s.drain(d.route("dead_letter_queue"));
  REQUIRE(dead.size() == poison.size());
  std::set<std::string> bodies;
  for (const auto& m : dead) {
    bodies.insert(m.body);
    CHECK(m.headers.count("x-telluride-reason") == 1);
    CHECK_FALSE(m.headers.at("x-telluride-reason").empty());
  }
  CHECK(bodies == std::set<std::string>(poison.begin(), poison.end()));

  auto http = http_request(d.port(), "GET", "/api/sensors/" + second.line.dump() + "/" + second.device.dump() + "/" + second.sensor.dump());
  CHECK(http.status == 200);
  CHECK(nlohmann::json::parse(http.body)["total_reads"] == want.at(second.key()).count);

  // GET /api/sensors lists every sensor, the most read first; their readings add up.
  auto listed = nlohmann::json::parse(http_request(d.port(), "GET", "/api/sensors?limit=500").body);
  CHECK(listed["matched"] == 300);
  REQUIRE(listed["sensors"].size() == 300);
  std::uint64_t reads = 0;
  for (std::size_t i = 0; i < 300; ++i) {
    reads += listed["sensors"][i]["total_reads"].get<std::uint64_t>();
    if (i > 0)
      CHECK(listed["sensors"][i]["total_reads"] <= listed["sensors"][i - 1]["total_reads"]);
  }
  CHECK(reads == 20'000);
  auto top = nlohmann::json::parse(http_request(d.port(), "GET", "/api/sensors?limit=1").body);
  CHECK(top["matched"] == 300);
  REQUIRE(top["sensors"].size() == 1);
  CHECK(top["sensors"][0] == listed["sensors"][0]);
  const auto key_text = second.line.dump() + "/" + second.device.dump() + "/" + second.sensor.dump();
  auto found = nlohmann::json::parse(http_request(d.port(), "GET", "/api/sensors?q=" + key_text).body);
  std::size_t hits = 0;
  for (const auto& a : found["sensors"]) {
    CHECK((a["line_id"].dump() + "/" + a["device_id"].dump() + "/" + a["sensor_id"].dump()).find(key_text) !=
          std::string::npos);
    if (a["line_id"] == second.line && a["device_id"] == second.device && a["sensor_id"] == second.sensor) {
      ++hits;
      // The listing's entry is the sensor's aggregate message and the alerts raised for it.
      auto aggregate = a;
      CHECK(aggregate["alerts"] == 0);
      aggregate.erase("alerts");
      CHECK(aggregate == nlohmann::json::parse(http.body));
    }
  }
  CHECK(hits == 1);
  CHECK(http_request(d.port(), "GET", "/api/sensors?limit=0").status == 400);
  // sort=reads is the default order; a sort the daemon cannot answer is a 400 naming the choices.
  CHECK(nlohmann::json::parse(http_request(d.port(), "GET", "/api/sensors?limit=500&sort=reads").body) == listed);
  auto bad_sort = http_request(d.port(), "GET", "/api/sensors?sort=rate");
  CHECK(bad_sort.status == 400);
  CHECK(nlohmann::json::parse(bad_sort.body) == nlohmann::json{{"error", "sort must be reads or alerts"}});

  CHECK(d.stop() == std::optional<int>{0});
  CHECK(s.ready(d.route("readings_queue")) == 0);
}

TEST_CASE("SIGTERM mid-stream drains: every reading taken is counted, the rest stay queued") {
  daemon_process d{"term" + std::to_string(::getpid()), {{"rate_limit_allowed", 500}, {"rate_limit_interval", 250}}};  // 20,000 take 10 s
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{50, 20'000, 11, "term"};
  publish_readings(s, d, set, 0, 20'000);
  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() >= 3000; }, 30s));
  auto code = d.stop(SIGTERM);
  REQUIRE(code == std::optional<int>{0});
  CHECK(d.log().find("drained") != std::string::npos);
  totals.update(s, d);  // the last totals are published during the drain
  auto left = s.ready(d.route("readings_queue"));
  INFO("counted " << totals.total() << ", left in the queue " << left);
  CHECK(totals.total() > 0);
  CHECK(left > 0);
  CHECK(totals.total() + left == 20'000);
  CHECK(totals.failed() == 0);
}

TEST_CASE("a second signal during a slow drain exits at once, non-zero, and loses nothing") {
  daemon_process d{"twice" + std::to_string(::getpid()), {{"rate_limit_allowed", 20}, {"rate_limit_interval", 1000}}};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{10, 2000, 13, "twice"};
  publish_readings(s, d, set, 0, 2000);
  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() > 0; }, 20s));
  ::kill(d.pid(), SIGTERM);  // the drain now waits for the rate limit: ~1000 buffered at 20/s
  std::this_thread::sleep_for(1s);
  CHECK_FALSE(d.exited());
  auto started = std::chrono::steady_clock::now();
  auto code = d.stop(SIGTERM, 5s);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  REQUIRE(code.has_value());
  CHECK(*code != 0);
  CHECK(d.log().find("second signal") != std::string::npos);
  // Nothing lost: what the first life had not acknowledged went back to the queue when its
  // connection closed, and what it had applied is in its checkpoints (durable mode). Started
  // again on the same queues and state stream, without the rate limit, the daemon ends with
  // every sensor's aggregate exact over the 2,000, each reading counted once. (The throughput
  // totals could not tell: the readings applied after the last throughput message are in
  // neither the queue nor the totals.)
  {
    auto file = nlohmann::json::parse(std::ifstream(d.config_path()));
    file.erase("rate_limit_allowed");
    file.erase("rate_limit_interval");
    std::ofstream(d.config_path()) << file.dump(2);
  }
  d.start();
  aggregate_view aggregates;
  const auto want = set.expected(2000);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 60s));
  aggregates.check(want);
  CHECK(s.ready(d.route("readings_queue")) == 0);
  CHECK(d.stop() == std::optional<int>{0});
}
