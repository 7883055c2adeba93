// The sharding and state keys of CONTRACT §7 as the daemon takes them (file, flags,
// /api/config, one-line errors), the topology it declares for them, and its refusal to start
// on a broker without the consistent-hash plugin. What several daemons consume of the shard
// queues is checked in daemon_handover_test.cpp and tests/fault/shard_sharing_test.cpp.
#include "daemon_checks.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>

// Its own namespace: the unity build compiles several test files as one.
namespace daemon_shards_test {

using namespace telluride::test;

namespace {

std::string host_name() {
  char host[256] = {};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  return host;
}

} // namespace

TEST_CASE("the sharding and state keys come from the file and the flags, and /api/config shows them") {
  daemon_process d{"shardkeys" + std::to_string(::getpid()), {{"shards", 3}, {"checkpoint_interval_ms", 250}}};
  d.launch({"pipeline", "--config", d.config_path(), "--node", "edge-1", "--state", "memory", "--shards", "2"});
  REQUIRE(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 20s));
  auto shown = nlohmann::json::parse(http_request(d.port(), "GET", "/api/config").body)["config"];
  CHECK(shown["node_name"] == "edge-1");
  CHECK(shown["shards"] == 2);  // the flag wins over the file
  CHECK(shown["state"] == "memory");
  CHECK(shown["checkpoint_interval_ms"] == 250);
  CHECK(shown["state_stream"] == nlohmann::json::parse(std::ifstream(d.config_path()))["state_stream"]);
  // Not reconfigurable: a reconfiguration naming one is refused like any file-only key.
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  send_control(s, d, R"({"shards": 4})", "shards-at-runtime");
  event_view events;
  CHECK(eventually([&] { events.update(s, d); return events.named("config_rejected").size() == 1; }, 20s));
  auto rejected = events.named("config_rejected");
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0]["reason"].get<std::string>().starts_with("shards cannot be changed at runtime; reconfigurable keys: "));
  const auto log = d.log();
  CHECK(log.find("node edge-1: consuming the shards the membership gives it of 2 on ") != std::string::npos);
  CHECK(d.stop() == std::optional<int>{0});

  // Without a node name the daemon is HOSTNAME-PID.
  daemon_process unnamed{"shardnode" + std::to_string(::getpid())};
  unnamed.start();
  shown = nlohmann::json::parse(http_request(unnamed.port(), "GET", "/api/config").body)["config"];
  CHECK(shown["node_name"] == host_name() + "-" + std::to_string(unnamed.pid()));
  CHECK(shown["shards"] == 1);
  CHECK(shown["state"] == "durable");
  CHECK(unnamed.stop() == std::optional<int>{0});
}

TEST_CASE("in memory mode, readings a run with one shard left in the readings queue are consumed before the shards") {
  daemon_process d{"shardlegacy" + std::to_string(::getpid()), {{"shards", 2}, {"state", "memory"}}};
  d.launch({"pipeline", "--config", d.config_path(), "--shards", "1"});  // binds the readings queue
  REQUIRE(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 20s));
  REQUIRE(d.stop() == std::optional<int>{0});
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  for (int i = 0; i < 5; ++i)
    s.publish(d.route("exchange"), d.route("readings_routing_key"),
              R"({"line_id": 1, "device_id": 2, "sensor_id": 3, "reading": 4.5, "timestamp": "2026-12-01T10:00:00Z"})",
              "legacy-" + std::to_string(i));
  s.wait_confirms();
  REQUIRE(s.ready(d.route("readings_queue")) == 5);
  d.start(60s);
  const auto log = d.log();
  CHECK(log.find("the number of shards changed from 1 to 2 in ") != std::string::npos);
  CHECK(log.find(" ms: 5 readings left in the old queues applied, 1 sensors handed on to the new shards") !=
        std::string::npos);
  CHECK(s.ready(d.route("readings_queue")) == 0);
  aggregate_view view;
  const std::map<std::string, expected_aggregate> want{{"1/2/3", {5, 4.5, 4.5, 4.5, 0.0, 4.5, "2026-12-01T10:00:00Z"}}};
  CHECK(eventually([&] { view.update(s, d); return view.matches(want); }, 20s));
  view.check(want);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("in memory mode, readings a run with 4 shards left are consumed when it restarts with 2, then with 3") {
  daemon_process d{"shardshrink" + std::to_string(::getpid()), {{"shards", 4}, {"state", "memory"}}};
  d.start(60s);  // declares the 4 shard queues and binds them
  REQUIRE(d.stop() == std::optional<int>{0});
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{60, 1'200, 53, "shardshrink"};
  publish_keyed(s, d, set, 0, 600);
  auto ready_in = [&](int shard) { return s.ready(d.route("readings_queue") + "." + std::to_string(shard)); };
  REQUIRE(ready_in(2) + ready_in(3) > 0);  // some of them in the queues 2 shards do not have

  // 4 to 2 through 1: every queue of the 4 drained, the two above 2 deleted.
  d.launch({"pipeline", "--config", d.config_path(), "--shards", "2"});
  REQUIRE(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 60s));
  auto log = d.log();
  CHECK(log.find("the number of shards changed from 4 to 1 in ") != std::string::npos);
  CHECK(log.find(" ms: 600 readings left in the old queues applied, 60 sensors handed on to the new shards") !=
        std::string::npos);
  CHECK(log.find("the number of shards changed from 1 to 2 in ") != std::string::npos);
  CHECK(amqp_test::list_queue(d.route("readings_queue") + ".2").ready == -1);  // deleted
  CHECK(amqp_test::list_queue(d.route("readings_queue") + ".3").ready == -1);
  publish_keyed(s, d, set, 600, 900);
  aggregate_view view;
  CHECK(eventually([&] { view.update(s, d); return view.matches(set.expected(900)); }, 30s));
  view.check(set.expected(900));
  REQUIRE(d.stop() == std::optional<int>{0});

  // 2 to 3: the readings left in the 2 queues hash elsewhere among 3, so through 1 again.
  s.drain(d.route("aggregates_queue"));
  publish_keyed(s, d, set, 900, 1'200);
  d.launch({"pipeline", "--config", d.config_path(), "--shards", "3"});
  REQUIRE(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 60s));
  log = d.log();
  CHECK(log.find("the number of shards changed from 2 to 1 in ") != std::string::npos);
  CHECK(log.find(" ms: 300 readings left in the old queues applied") != std::string::npos);
  // Memory mode: this process counts what it applied, from zero.
  std::vector<const reading_message*> handled;
  for (std::size_t i = 900; i < 1'200; ++i)
    handled.push_back(&set.messages()[i]);
  const auto later = set.expected_of(handled);
  aggregate_view after;
  CHECK(eventually([&] { after.update(s, d); return after.matches(later); }, 30s));
  after.check(later);
  CHECK(d.stop() == std::optional<int>{0});
}

TEST_CASE("a bad sharding or state value, in a flag or the file, ends the daemon with one line naming the key") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
    {{"--shards", "0"}, "telluride pipeline: shards must be an integer in 1..1024, got 0\n"},
    {{"--shards", "many"}, "telluride pipeline: shards must be an integer in 1..1024, got many\n"},
    {{"--state", "disk"}, "telluride pipeline: state must be \"durable\" or \"memory\", got \"disk\"\n"},
    {{"--checkpoint-interval-ms", "60001"},
     "telluride pipeline: checkpoint_interval_ms must be an integer in 1..60000, got 60001\n"},
    {{"--state-stream", "amq.state"},
     "telluride pipeline: state_stream must not start with \"amq.\" (reserved by RabbitMQ), got \"amq.state\"\n"},
    {{"--node", std::string(129, 'n')},
     "telluride pipeline: node_name must be a string of at most 128 bytes of UTF-8 without control characters, got \"" +
       std::string(59, 'n') + "...\n"},
  };
  for (const auto& [flags, line] : cases) {
    CAPTURE(line);
    daemon_process d{"shardbad" + std::to_string(::getpid())};
    std::vector<std::string> args{"pipeline", "--config", d.config_path()};
    args.insert(args.end(), flags.begin(), flags.end());
    d.launch(args);
    CHECK(d.wait(10s) == std::optional<int>{1});
    CHECK(d.log() == line);
  }
  daemon_process in_file{"shardfile" + std::to_string(::getpid()), {{"shards", 2000}}};
  in_file.launch({"pipeline", "--config", in_file.config_path()});
  CHECK(in_file.wait(10s) == std::optional<int>{1});
  CHECK(in_file.log() == "telluride pipeline: config file \"" + in_file.config_path() +
                           "\": shards must be an integer in 1..1024, got 2000\n");
}

TEST_CASE("on a broker without the consistent-hash plugin the daemon with shards refuses to start with one line naming it") {
  amqp_test::private_broker broker{9, {}, {}, "TELLURIDE_BROKER_PLUGINS= "};
  daemon_process d{"noplugin" + std::to_string(::getpid()), {{"amqp_url", broker.url()}, {"shards", 4}}};
  d.launch({"pipeline", "--config", d.config_path()});
  CHECK(d.wait(e2e::within_budget(20s)) == std::optional<int>{1});
  const auto log = d.log();
  INFO(log);
  CHECK(std::count(log.begin(), log.end(), '\n') == 1);
  CHECK(log.rfind("telluride pipeline: cannot start on the broker at amqp://guest:***@127.0.0.1:" +
                    std::to_string(broker.port()) + "/%2f: shards > 1 needs the broker plugin "
                    "rabbitmq_consistent_hash_exchange, which is not enabled (declare exchange \"" +
                    d.route("shards_exchange") + "\": COMMAND_INVALID - unknown exchange type 'x-consistent-hash'); "
                    "enable it with: rabbitmq-plugins enable rabbitmq_consistent_hash_exchange",
                  0) == 0);

  // With one shard the plugin is not needed: the same broker runs the daemon.
  daemon_process one{"noplugin1" + std::to_string(::getpid()), {{"amqp_url", broker.url()}}};
  one.start(e2e::within_budget(20s));
  CHECK(one.stop() == std::optional<int>{0});
}

} // namespace daemon_shards_test
