// Memory mode with K > 1 (CONTRACT §7): the shards are split between the daemons by the same
// membership and assignment as in durable mode, each consumed by one of them, with no
// checkpoint and no record in the state stream; the aggregates are exact, each sensor's on the
// daemon whose shard holds it, and GET /api/sensors on the other names who owns what.
#include "shard_members.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

// Its own namespace: the unity build compiles several test files as one.
namespace daemon_sharing_memory_test {

using namespace telluride::test;

TEST_CASE("in memory mode two daemons split 4 shards and count every reading once, with no state stream") {
  const auto id = std::to_string(::getpid());
  daemon_process a{"sharemem" + id, {{"shards", 4}, {"state", "memory"}}};
  daemon_process b{"sharememb" + id};
  launch_member(a, a, "mem-a");
  launch_member(b, a, "mem-b");
  CHECK(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 10s));
  CHECK(active_shards(a.port()).size() == 2);
  CHECK(active_shards(b.port()).size() == 2);
  auto view = shards_of(a.port());
  CHECK(view["node"] == "mem-a");
  REQUIRE(view["shards"].size() == 4);
  for (const auto& row : view["shards"]) {
    CHECK(row["queue"] == a.route("readings_queue") + "." + std::to_string(row["shard"].get<int>()));
    CHECK((row["owner"] == "mem-a" || row["owner"] == "mem-b"));
    CHECK(row["state"] == (row["owner"] == "mem-a" ? "active" : "standby"));
    CHECK(row["checkpoint_lag_ms"] == 0);
  }

  reading_set set{120, 3'000, 41, "sharemem"};
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  publish_keyed(s, a, set, 0, 3'000);
  aggregate_view aggregates;
  const auto want = set.expected(3'000);
  CHECK(eventually([&] { aggregates.update(s, a); return aggregates.matches(want); }, 30s));
  aggregates.check(want);
  CHECK(metric_of(a.port(), "telluride_sensors") + metric_of(b.port(), "telluride_sensors") == 120);
  CHECK(metric_of(a.port(), "telluride_shard_members") == 2);
  // The shards in /api/topology and /metrics too.
  auto topology = nlohmann::json::parse(http_request(a.port(), "GET", "/api/topology").body);
  CHECK(topology["shards"]["node"] == "mem-a");
  CHECK(topology["shards"]["shards"].size() == 4);
  const auto metrics = http_request(a.port(), "GET", "/metrics").body;
  std::size_t active_lines = 0;  // telluride_shard_state{shard,queue,state,owner} lines of shards active here
  for (auto at = metrics.find(",state=\"active\",owner=\"mem-a\"} 1\n"); at != std::string::npos;
       at = metrics.find(",state=\"active\",owner=\"mem-a\"} 1\n", at + 1))
    ++active_lines;
  CHECK(active_lines == 2);
  CHECK(metrics.find("\ntelluride_shard_state{shard=\"0\",queue=\"" + a.route("readings_queue") + ".0\",state=\"") !=
        std::string::npos);

  // A sensor on b's shards: a names its own shards and b's.
  bool is_elsewhere_named = false;
  for (const auto& sensor : set.ids()) {
    auto path = "/api/sensors/" + sensor.line.dump() + "/" + sensor.device.dump() + "/" + sensor.sensor.dump();
    if (!sensor.line.is_number())
      continue;  // string ids: the path is enough with integer ones
    auto on_a = http_request(a.port(), "GET", path);
    auto on_b = http_request(b.port(), "GET", path);
    CHECK(on_a.status + on_b.status == 200 + 404);  // on exactly one of them
    if (on_a.status == 404) {
      const auto error = nlohmann::json::parse(on_a.body)["error"].get<std::string>();
      CHECK(error.find("on node mem-a (shards ") != std::string::npos);
      CHECK(error.find("its shard is owned by another node: mem-b (shards ") != std::string::npos);
      is_elsewhere_named = true;
      break;
    }
  }
  CHECK(is_elsewhere_named);
  for (int shard = 0; shard < 4; ++shard)
    CHECK(amqp_test::list_queue(a.route("readings_queue") + "." + std::to_string(shard)).ready == 0);
  // Nothing restored, nothing checkpointed: shards are taken without a claim.
  for (auto* d : {&a, &b}) {
    const auto log = d->log();
    CHECK(log.find("restored from") == std::string::npos);
    CHECK(log.find("taken (state in memory: nothing to restore)") != std::string::npos);
  }
  CHECK(b.stop() == std::optional<int>{0});
  CHECK(a.stop() == std::optional<int>{0});
}

} // namespace daemon_sharing_memory_test
