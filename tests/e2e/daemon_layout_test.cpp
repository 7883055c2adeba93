// Changing `shards` between restarts in durable mode (CONTRACT §7): the readings a run left in
// its queues are consumed with its state first, the new shards inherit every sensor, and the
// aggregates stay exact through 1 → 8 → 2 → 1 shards, with nothing counted twice.
#include "shard_members.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

// Its own namespace: the unity build compiles several test files as one.
namespace daemon_layout_test {

using namespace telluride::test;

TEST_CASE("changing shards between restarts (1, 8, 2, 1) loses and double-counts nothing, queued readings included") {
  daemon_process d{"layout" + std::to_string(::getpid()), {{"checkpoint_interval_ms", 50}}};
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{60, 5000, 29, "layout"};
  aggregate_view view;
  auto run = [&](int shards) {
    d.launch({"pipeline", "--config", d.config_path(), "--shards", std::to_string(shards)});
    REQUIRE(eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 60s));
  };
  auto exact_upto = [&](std::size_t readings) {
    const auto want = set.expected(readings);
    CHECK(eventually([&] { view.update(s, d); return view.matches(want); }, 60s));
    view.check(want);
  };
  auto changed = [&](int from, int to, int left) {
    const std::string line = "the number of shards changed from " + std::to_string(from) + " to " + std::to_string(to) +
                             " in ";
    const auto log = d.log();
    const auto at = log.find(line);
    REQUIRE_MESSAGE(at != std::string::npos, log);
    CHECK(log.find(" ms: " + std::to_string(left) + " readings left in the old queues applied, 60 sensors handed on "
                   "to the new shards", at) != std::string::npos);
  };
  auto shard_queues = [&](int shards) {
    std::vector<std::string> queues;
    for (int shard = 0; shard < shards; ++shard)
      queues.push_back(d.route("readings_queue") + "." + std::to_string(shard));
    return queues;
  };

  run(1);
  publish_keyed(s, d, set, 0, 1000);
  exact_upto(1000);
  REQUIRE(d.stop() == std::optional<int>{0});
  publish_keyed(s, d, set, 1000, 1500);  // waits in the readings queue of the run with 1 shard
  REQUIRE(s.ready(d.route("readings_queue")) == 500);

  run(8);
  changed(1, 8, 500);
  CHECK(s.ready(d.route("readings_queue")) == 0);
  publish_keyed(s, d, set, 1500, 2500);
  exact_upto(2500);
  REQUIRE(d.stop() == std::optional<int>{0});
  publish_keyed(s, d, set, 2500, 3000);  // spread over the 8 shard queues
  std::uint32_t left = 0;
  for (const auto& queue : shard_queues(8))
    left += s.ready(queue);
  REQUIRE(left == 500);

  run(2);  // 8 and 2 share queue names: through 1
  changed(8, 1, 500);
  changed(1, 2, 0);
  // The drains of the old layouts take no control queue (nor its forwarding lock): the one
  // forwarder connection in the log is the daemon's own.
  CHECK_MESSAGE(count_of(d.log(), "amqp connection 'telluride-control-forwarder' to ") == 1, d.log());
  publish_keyed(s, d, set, 3000, 4000);
  exact_upto(4000);
  REQUIRE(d.stop() == std::optional<int>{0});
  publish_keyed(s, d, set, 4000, 4500);

  run(1);
  changed(2, 1, 500);
  publish_keyed(s, d, set, 4500, 5000);
  exact_upto(5000);
  CHECK(metric_of(d.port(), "telluride_readings_duplicate_total") == 0);
  REQUIRE(d.stop() == std::optional<int>{0});
  CHECK(s.ready(d.route("readings_queue")) == 0);
  for (const auto& queue : shard_queues(8))
    CHECK(s.ready(queue) == 0);

  // The same shards again: nothing to change, the state goes on.
  run(1);
  CHECK(d.log().find("the number of shards changed") == std::string::npos);
  CHECK(d.log().find(": 60 sensors, ") != std::string::npos);
  REQUIRE(d.stop() == std::optional<int>{0});
}

TEST_CASE("two daemons started at once with a new number of shards: one changes the layout, both share it, exact") {
  daemon_process a{"layout2" + std::to_string(::getpid()), {{"checkpoint_interval_ms", 50}}};
  daemon_process b{"layout2b" + std::to_string(::getpid())};
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{40, 3000, 31, "layout2"};
  aggregate_view view;
  auto ready = [](daemon_process& d) {
    return eventually([&] { return http_request(d.port(), "GET", "/readyz").status == 200; }, 60s);
  };
  a.launch({"pipeline", "--config", a.config_path(), "--node", "a"});
  REQUIRE(ready(a));
  publish_keyed(s, a, set, 0, 1000);
  CHECK(eventually([&] { view.update(s, a); return view.matches(set.expected(1000)); }, 60s));
  REQUIRE(a.stop() == std::optional<int>{0});
  publish_keyed(s, a, set, 1000, 1600);  // left in the readings queue
  for (auto* d : {&a, &b})
    d->launch({"pipeline", "--config", a.config_path(), "--node", d == &a ? "a" : "b", "--shards", "4", "--http",
               "127.0.0.1:" + std::to_string(d->port())});
  REQUIRE(ready(a));
  REQUIRE(ready(b));
  // Exactly one of them changed the layout; the other waited for it or found it done.
  const auto changed = [](const std::string& log) {
    return log.find("the number of shards changed from 1 to 4 in ") != std::string::npos;
  };
  CHECK(changed(a.log()) != changed(b.log()));
  CHECK(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 30s));
  publish_keyed(s, a, set, 1600, 3000);
  const auto want = set.expected(3000);
  CHECK(eventually([&] { view.update(s, a); return view.matches(want); }, 60s));
  view.check(want);
  CHECK(metric_of(a.port(), "telluride_readings_duplicate_total") + metric_of(b.port(), "telluride_readings_duplicate_total") == 0);
  CHECK(a.stop() == std::optional<int>{0});
  CHECK(b.stop() == std::optional<int>{0});
  CHECK(s.ready(a.route("readings_queue")) == 0);
}

} // namespace daemon_layout_test
