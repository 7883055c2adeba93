#include "daemon_checks.hpp"

#include "telluride/daemon/reporter.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

using namespace telluride::test;

TEST_CASE("the HTTP API answers health, metrics, config, topology and sensors") {
  daemon_process d{"http" + std::to_string(::getpid()), {{"http_token", "s3cret"}}};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{5, 50, 3, "http"};
  publish_readings(s, d, set, 0, 50);

  CHECK(http_request(d.port(), "GET", "/healthz").status == 200);
  CHECK(http_request(d.port(), "GET", "/readyz").status == 200);
  CHECK(http_request(d.port(), "GET", "/nope").status == 404);
  CHECK(http_request(d.port(), "DELETE", "/api/config").status == 405);
  CHECK(eventually([&] {
    auto metrics = http_request(d.port(), "GET", "/metrics");
    return metrics.body.find("telluride_readings_total{outcome=\"successful\"} 50\n") != std::string::npos;
  }, 20s));
  auto dashboard = http_request(d.port(), "GET", "/");
  CHECK(dashboard.status == 200);
  CHECK(dashboard.body.find("<title>Telluride</title>") != std::string::npos);
  CHECK(dashboard.body.find("<script src=\"/dashboard.js\"></script>") != std::string::npos);
  auto script = http_request(d.port(), "GET", "/dashboard.js");
  CHECK(script.status == 200);
  CHECK(script.body.find("new EventSource('/api/stream')") != std::string::npos);
  CHECK(http_request(d.port(), "GET", "/dashboard.css").status == 200);

  auto config = nlohmann::json::parse(http_request(d.port(), "GET", "/api/config").body);
  CHECK(config["version"] == 0);
  CHECK(config["config"]["processor_concurrency"] == 2);
  CHECK(config["config"].dump().find("guest:guest") == std::string::npos);  // the password is masked

  CHECK(http_request(d.port(), "POST", "/api/config", R"({"processor_concurrency": 3})").status == 401);
  CHECK(http_request(d.port(), "POST", "/api/config", R"({"processor_concurrency": 3})",
                     "Authorization: Bearer wrong\r\n").status == 401);
  auto bad = http_request(d.port(), "POST", "/api/config", R"({"processor_concurrency": 0})",
                          "Authorization: Bearer s3cret\r\n");
  CHECK(bad.status == 400);
  CHECK(nlohmann::json::parse(bad.body)["event"] == "config_rejected");
  auto good = http_request(d.port(), "POST", "/api/config", R"({"processor_concurrency": 3})",
                           "Authorization: Bearer s3cret\r\n");
  CHECK(good.status == 200);
  auto applied = nlohmann::json::parse(good.body);
  CHECK(applied["event"] == "config_applied");
  CHECK(applied["version"] == 1);
  CHECK(applied["config"]["processor_concurrency"] == 3);

  auto topology = nlohmann::json::parse(http_request(d.port(), "GET", "/api/topology").body);
  std::size_t processors = 0;
  for (const auto& stage : topology["stages"])
    processors += stage["node_type"] == "processor";
  CHECK(processors == 3);
  CHECK(http_request(d.port(), "GET", "/api/sensors/9/9/9").status == 404);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("without a configured token POST /api/config is refused") {
  daemon_process d{"notoken" + std::to_string(::getpid())};
  d.start();
  CHECK(http_request(d.port(), "POST", "/api/config", R"({"processor_concurrency": 3})",
                     "Authorization: Bearer anything\r\n").status == 403);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("bad start-up input ends the daemon with one line and exit 1") {
  SUBCASE("an unknown key in the config file") {
    daemon_process d{"badcfg" + std::to_string(::getpid()), {{"batch_sizy", 3}}};
    d.launch({"pipeline", "--config", d.config_path()});
    CHECK(d.wait(10s) == std::optional<int>{1});
    CHECK(d.exited());
    CHECK(d.stop() == std::optional<int>{1});  // ended already: no signal to anyone, its exit code
    auto log = d.log();
    CHECK(log.find("batch_sizy") != std::string::npos);
    CHECK(std::count(log.begin(), log.end(), '\n') == 1);
  }
  SUBCASE("an unreachable broker, after the connect timeout") {
    daemon_process d{"unreach" + std::to_string(::getpid()),
                     {{"amqp_url", "amqp://guest:guest@127.0.0.1:" + std::to_string(e2e::unused_local_port()) + "/%2f"}}};
    auto started = std::chrono::steady_clock::now();
    d.launch({"pipeline", "--config", d.config_path(), "--connect-timeout", "1"});
    CHECK(d.wait(15s) == std::optional<int>{1});
    CHECK(std::chrono::steady_clock::now() - started >= 1s);
    auto log = d.log();
    CHECK(log.find("connect to 127.0.0.1:") != std::string::npos);
    CHECK(log.find("guest:guest") == std::string::npos);
    CHECK(log.rfind("telluride pipeline: cannot start on the broker", 0) == 0);
    CHECK(std::count(log.begin(), log.end(), '\n') == 1);
  }
  SUBCASE("a bad URL") {
    daemon_process d{"badurl" + std::to_string(::getpid())};
    d.launch({"pipeline", "--config", d.config_path(), "--amqp", "http://nowhere"});
    CHECK(d.wait(10s) == std::optional<int>{1});
    auto log = d.log();
    CHECK(log.find("amqp_url must start with amqp://") != std::string::npos);
    CHECK(std::count(log.begin(), log.end(), '\n') == 1);
  }
  SUBCASE("an HTTP port in use") {
    daemon_process first{"port1" + std::to_string(::getpid())};
    first.start();
    daemon_process second{"port2" + std::to_string(::getpid()),
                          {{"http_listen", "127.0.0.1:" + std::to_string(first.port())}}};
    second.launch({"pipeline", "--config", second.config_path()});
    CHECK(second.wait(20s) == std::optional<int>{1});
    CHECK(second.log().find("address already in use") != std::string::npos);
    CHECK(first.stop() == std::optional<int>{0});
  }
}

TEST_CASE("a forced close of the consuming connection keeps aggregates exact") {
  daemon_process d{"close" + std::to_string(::getpid()), {{"rate_limit_allowed", 1000}, {"rate_limit_interval", 100}}};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{100, 20'000, 31, "close"};
  publish_readings(s, d, set, 0, 20'000);
  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() >= 4000; }, 30s));
  // Close the daemon's consuming connection from the broker side, twice, mid-stream: the
  // second time once it is back (on a loaded host reconnecting may take longer than a pause).
  for (int round = 0; round < 2; ++round) {
    CHECK(eventually([&] { return amqp_test::close_connections_named("telluride-consumer") >= 1; }, 30s));
    std::this_thread::sleep_for(700ms);
  }
  aggregate_view aggregates;
  auto want = set.expected(20'000);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 90s));
  aggregates.check(want);
  CHECK(eventually([&] { totals.update(s, d); return totals.total() >= 20'000; }, 30s));
  std::this_thread::sleep_for(500ms);
  totals.update(s, d);
  CHECK(totals.successful() == 20'000);
  CHECK(s.ready(d.route("readings_queue")) == 0);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("the daemon keeps running through a broker restart and counts every reading once") {
  amqp_test::private_broker broker{5};
  daemon_process d{"restart" + std::to_string(::getpid()),
                   {{"amqp_url", broker.url()}, {"rate_limit_allowed", 1000}, {"rate_limit_interval", 100}}};
  d.start();
  reading_set set{100, 15'000, 41, "restart"};
  {
    amqp_session s{broker.url()};
    publish_readings(s, d, set, 0, 15'000);
    throughput_view totals;
    CHECK(eventually([&] { totals.update(s, d); return totals.total() >= 3000; }, 30s));
  }
  REQUIRE(broker.ctl("stop_app") == 0);
  std::this_thread::sleep_for(2s);
  CHECK_FALSE(d.exited());
  auto not_ready = http_request(d.port(), "GET", "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body == "{\"reason\":\"the broker connection is down\",\"status\":\"not ready\"}\n");
  REQUIRE(broker.ctl("start_app") == 0);

  amqp_session s{broker.url()};
  aggregate_view aggregates;
  auto want = set.expected(15'000);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 90s));
  aggregates.check(want);
  CHECK(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 30s));
  CHECK(s.ready(d.route("readings_queue")) == 0);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("a broker alarm holds the outputs in the daemon, bounded, and the latest aggregates follow once it clears") {
  amqp_test::private_broker broker{6};  // an alarm blocks every publisher of its broker
  // 300 sensors at 2,000 readings/s with aggregate and metric ticks every 20 ms: about 2,000
  // aggregates and 500 node metrics a second, which would pile up in the publisher for as long
  // as the alarm lasts. (Aggregates alone stop at two unconfirmed chunks of a round: the
  // metrics take the outputs past min_output_backlog.) In memory mode: in durable mode the
  // alarm holds the checkpoints too, so nothing is acknowledged and consumption stops at the
  // prefetch window (daemon_durable_test.cpp, failing checkpoints).
  daemon_process d{"alarm" + std::to_string(::getpid()),
                   {{"amqp_url", broker.url()}, {"state", "memory"}, {"aggregate_interval_ms", 20},
                    {"metrics_interval_ms", 20}, {"rate_limit_allowed", 200}, {"rate_limit_interval", 100}}};
  d.start();  // declares the topology
  // Every reading is queued before the daemon consumes any: at 2,000/s it would otherwise take
  // them as fast as a busy host publishes them, and none may be left when the alarm begins (a
  // CI run saw 0 consumed during the alarm: the 20,000 took 10 s to publish).
  REQUIRE(d.stop() == std::optional<int>{0});
  reading_set set{300, 20'000, 43, "alarm"};
  amqp_session s{broker.url()};
  publish_readings(s, d, set, 0, 20'000);  // first: the alarm would block the test's publishes too
  d.start();
  REQUIRE_MESSAGE(broker.ctl("set_vm_memory_high_watermark absolute 1") == 0, broker.last_output());
  const double consumed_before = metric_of(d.port(), "telluride_amqp_consumed_total");
  double most = 0;
  double consumed_during = 0;
  // At least 4 s of alarm, and until 2,000 readings were consumed during it however busy the
  // host is and the outputs reached the backlog limit (at most 40 s): the pipeline goes on
  // while its outputs are held.
  const auto alarm_began = std::chrono::steady_clock::now();
  for (;;) {
    most = std::max(most, metric_of(d.port(), "telluride_published_unconfirmed"));
    consumed_during = metric_of(d.port(), "telluride_amqp_consumed_total") - consumed_before;
    const auto lasted = std::chrono::steady_clock::now() - alarm_began;
    if ((lasted >= 4s && consumed_during >= 2000 && most > telluride::reporter::min_output_backlog) || lasted >= 40s)
      break;
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE_MESSAGE(broker.ctl("set_vm_memory_high_watermark 0.4") == 0, broker.last_output());
  MESSAGE("during the alarm: " << consumed_during << " readings consumed, at most " << most
                               << " outputs unconfirmed");
  CHECK(consumed_during >= 2000);  // the pipeline kept going
  CHECK(most > telluride::reporter::min_output_backlog);  // the publisher was blocked
  // Held from there: one more tick of aggregates (at most one per sensor) and of metrics.
  CHECK(most <= telluride::reporter::min_output_backlog + 300 + 100);
  CHECK(d.log().find("aggregates and metrics are held") != std::string::npos);

  aggregate_view aggregates;
  auto want = set.expected(20'000);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 60s));
  aggregates.check(want);
  CHECK(eventually([&] { return metric_of(d.port(), "telluride_published_unconfirmed") == 0; }, 20s));
  CHECK(d.stop() == std::optional<int>{0});
}
