#include "daemon_checks.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace telluride::test;

TEST_CASE("each invalid reconfiguration is rejected with its reason and changes nothing") {
  daemon_process d{"rej" + std::to_string(::getpid())};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  auto before = http_request(d.port(), "GET", "/api/config");
  REQUIRE(before.status == 200);
  struct bad_case {
    std::string body;
    std::string reason_mentions;
  };
  const std::vector<bad_case> cases{
    {"not json", "JSON"},
    {"[1, 2]", "object"},
    {"{}", "non-empty"},
    {"{\"batch_sizy\": 3}", "batch_sizy"},
    {"{\"processor_concurrency\": 0}", "processor_concurrency"},
    {"{\"processor_concurrency\": \"2\"}", "processor_concurrency"},
    {"{\"processor_concurrency\": 1.5}", "processor_concurrency"},
    {"{\"prefetch_count\": 70000}", "prefetch_count"},
    {"{\"processor_concurrency\": 4, \"rate_limit_interval\": 0}", "rate_limit_interval"},
    // Found from outside: these crashed the daemon, stopped its config handler, or were applied.
    {"{\"processor_concurrency\": 4, \"note\": \"\xff\"}", "not valid UTF-8 (byte 0xff at offset 38)"},
    {R"({"processor_concurrency":0,"processor_concurrency":4})", "gives the key \"processor_concurrency\" twice"},
    {std::string(10'000, '[') + std::string(10'000, ']'), "nested deeper than 64 levels"},
    {std::string(100'000, '[') + std::string(100'000, ']'), "larger than 65536 bytes (got 200000)"},
    // Over the connector's max_body_size: never buffered, refused with the connector's reason.
    {std::string(2 * 1024 * 1024, ' '), "refused: body of 2097152 bytes exceeds max_body_size 1048576"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i)
    send_control(s, d, cases[i].body, "bad-" + std::to_string(i));

  event_view events;
  CHECK(eventually([&] { events.update(s, d); return events.named("config_rejected").size() == cases.size(); }, 30s));
  auto rejected = events.named("config_rejected");
  REQUIRE(rejected.size() == cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << cases[i].body << " → " << rejected[i].dump());
    CHECK(rejected[i]["correlation_id"] == "bad-" + std::to_string(i));
    CHECK(rejected[i]["reason"].get<std::string>().find(cases[i].reason_mentions) != std::string::npos);
  }
  CHECK(events.named("config_applied").empty());
  auto after = http_request(d.port(), "GET", "/api/config");
  CHECK(after.body == before.body);
  CHECK(nlohmann::json::parse(after.body)["version"] == 0);

  std::vector<received> dead;
  CHECK(eventually([&] {
    auto more = s.drain(d.route("dead_letter_queue"));
    dead.insert(dead.end(), more.begin(), more.end());
    return dead.size() == cases.size();
  }, 10s));
  for (const auto& m : dead)
    CHECK(m.headers.count("x-telluride-reason") == 1);
  CHECK(s.ready(d.route("control_queue")) == 0);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("POST /api/config answers every bad body with its reason and the daemon stays ready") {
  daemon_process d{"postbad" + std::to_string(::getpid()), {{"http_token", "s3cret"}}};
  d.start();
  const std::string auth = "Authorization: Bearer s3cret\r\n";
  struct bad_case {
    std::string body;
    std::string reason;
  };
  const std::vector<bad_case> cases{
    {std::string(100'000, '[') + std::string(100'000, ']'), "reconfiguration is larger than 65536 bytes (got 200000)"},
    {std::string(30'000, '[') + std::string(30'000, ']'), "reconfiguration is nested deeper than 64 levels"},
    {"{\"processor_concurrency\": \"\xff\"}", "reconfiguration is not valid UTF-8 (byte 0xff at offset 27)"},
    {R"({"processor_concurrency":0,"processor_concurrency":4})",
     "reconfiguration gives the key \"processor_concurrency\" twice"},
  };
  for (const auto& c : cases) {
    auto reply = http_request(d.port(), "POST", "/api/config", c.body, auth);
    INFO(reply.body);
    REQUIRE(reply.status == 400);
    auto event = nlohmann::json::parse(reply.body);
    CHECK(event["event"] == "config_rejected");
    CHECK(event["reason"] == c.reason);
  }
  auto ready = http_request(d.port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(nlohmann::json::parse(ready.body) == nlohmann::json{{"status", "ready"}});
  auto applied = http_request(d.port(), "POST", "/api/config", R"({"processor_concurrency": 3})", auth);
  CHECK(applied.status == 200);
  CHECK(nlohmann::json::parse(applied.body)["version"] == 1);
  auto metrics = http_request(d.port(), "GET", "/metrics").body;
  CHECK(metrics.find("telluride_config_changes_total{outcome=\"rejected\"} 4\n") != std::string::npos);
  CHECK(metrics.find("telluride_config_changes_total{outcome=\"applied\"} 1\n") != std::string::npos);
  CHECK(metrics.find("telluride_handler_errors_total 0\n") != std::string::npos);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("five reconfigurations while 30,000 readings flow keep totals and aggregates exact") {
  daemon_process d{"reconf" + std::to_string(::getpid())};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  amqp_session control{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{200, 30'000, 23, "reconf"};
  const std::vector<std::string> changes{
    R"({"processor_concurrency": 4})",
    R"({"sensor_batcher_one_batch_size": 7, "sensor_batcher_two_concurrency": 3})",
    R"({"prefetch_count": 200, "batch_timeout_ms": 20})",
    R"({"producer_concurrency": 2, "processor_concurrency": 1})",
    R"({"sensor_batcher_two_batch_size": 1000, "prefetch_count": 1000})",
  };
  std::thread reconfigure{[&] {
    for (std::size_t i = 0; i < changes.size(); ++i) {
      std::this_thread::sleep_for(150ms);
      send_control(control, d, changes[i], "change-" + std::to_string(i));
    }
  }};
  // The last 200 readings (one per sensor) go out once the others are counted. With
  // producer_concurrency 2 the broker hands a sensor's readings to either channel and writes
  // each channel's deliveries on its own, so two readings of one sensor in flight together can
  // reach the daemon in either order, and last_reading would depend on the broker.
  constexpr std::size_t before_last = 30'000 - 200;
  for (std::size_t from = 0; from < before_last; from += 1000) {
    publish_readings(s, d, set, from, std::min(from + 1000, before_last));
    std::this_thread::sleep_for(30ms);
  }
  reconfigure.join();

  event_view events;
  CHECK(eventually([&] { events.update(s, d); return events.named("config_applied").size() == changes.size(); }, 60s));
  aggregate_view aggregates;
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(set.expected(before_last)); }, 60s));
  publish_readings(s, d, set, before_last, 30'000);
  auto applied = events.named("config_applied");
  REQUIRE(applied.size() == changes.size());
  for (std::size_t i = 0; i < applied.size(); ++i) {
    CHECK(applied[i]["version"] == i + 1);
    CHECK(applied[i]["correlation_id"] == "change-" + std::to_string(i));
    CHECK(applied[i]["drain_ms"].is_number_integer());
  }
  auto final_config = applied.back()["config"];
  CHECK(final_config["processor_concurrency"] == 1);
  CHECK(final_config["producer_concurrency"] == 2);
  CHECK(final_config["sensor_batcher_one_batch_size"] == 7);
  CHECK(final_config["sensor_batcher_two_batch_size"] == 1000);
  CHECK(final_config["prefetch_count"] == 1000);

  auto want = set.expected(30'000);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 60s));
  aggregates.check(want);
  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() >= 30'000; }, 30s));
  std::this_thread::sleep_for(500ms);
  totals.update(s, d);
  CHECK(totals.successful() == 30'000);
  CHECK(totals.failed() == 0);
  auto topology = nlohmann::json::parse(http_request(d.port(), "GET", "/api/topology").body);
  std::size_t producers = 0;
  for (const auto& stage : topology["stages"])
    producers += stage["node_type"] == "producer";
  CHECK(producers == 2);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("config set --wait against the daemon exits 0 when applied and 1 when rejected") {
  daemon_process d{"cfgset" + std::to_string(::getpid())};
  d.start();
  auto run_config_set = [&](const std::string& change) {
    daemon_process tool{"cfgset-tool" + std::to_string(::getpid())};
    tool.launch({"config", "set", change, "--wait", "20", "--config", d.config_path()});
    auto code = tool.wait(30s);
    return std::make_pair(code, tool.log());
  };
  auto [applied, applied_out] = run_config_set("processor_concurrency=3");
  CHECK(applied == std::optional<int>{0});
  auto event = nlohmann::json::parse(applied_out.substr(0, applied_out.find('\n')));
  CHECK(event["event"] == "config_applied");
  CHECK(event["version"] == 1);
  CHECK(event["config"]["processor_concurrency"] == 3);
  auto [rejected, rejected_out] = run_config_set("processor_concurrency=0");
  CHECK(rejected == std::optional<int>{1});
  CHECK(rejected_out == "telluride config set: processor_concurrency must be an integer in 1..1024, got 0\n");
  CHECK(nlohmann::json::parse(http_request(d.port(), "GET", "/api/config").body)["version"] == 1);
  CHECK(d.stop() == std::optional<int>{0});
}
