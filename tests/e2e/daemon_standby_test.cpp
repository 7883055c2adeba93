// Two daemons with shards 1 on one config (CONTRACT §7, "every daemon started with the same
// config takes part"): one consumes, the other stands by holding nothing, and takes over with
// the first one's state when it dies. Every reading counts once across the two.
#include "shard_members.hpp"

#include <doctest/doctest.h>

// Its own namespace: the unity build compiles several test files as one.
namespace standby_e2e {

using namespace telluride::test;

TEST_CASE("with shards 1 a second daemon stands by, consumes nothing, and takes over exactly after a kill -9") {
  daemon_process a{"standby" + std::to_string(::getpid())};
  a.start();
  daemon_process b{"standby-b" + std::to_string(::getpid())};
  launch_member(b, a, "standby-b");
  REQUIRE(eventually([&] { return b.log().find("standing by") != std::string::npos; }, 20s));

  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{40, 6000, 23, "standby"};
  publish_readings(s, a, set, 0, 3000);
  // All of the first 3,000 went to a: its aggregates are exact over them, which they would
  // not be had b taken any.
  aggregate_view aggregates;
  auto first = set.expected(3000);
  CHECK(eventually([&] { aggregates.update(s, a); return aggregates.matches(first); }, 60s));
  aggregates.check(first);
  CHECK(http_request(b.port(), "GET", "/readyz").status == 0);  // standing by: not serving yet

  publish_readings(s, a, set, 3000, 4500);
  CHECK(a.stop(SIGKILL) == std::optional<int>{128 + SIGKILL});
  publish_readings(s, a, set, 4500, 6000);

  REQUIRE(eventually([&] { return http_request(b.port(), "GET", "/readyz").status == 200; }, 30s));
  CHECK(b.log().find("took the readings lock") != std::string::npos);
  auto all = set.expected(6000);
  CHECK(eventually([&] { aggregates.update(s, a); return aggregates.matches(all); }, 60s));
  aggregates.check(all);
  CHECK(b.stop() == std::optional<int>{0});
  auto queue = amqp_test::list_queue(a.route("readings_queue"));
  CHECK(queue.ready == 0);
  CHECK(queue.unacked == 0);
}

} // namespace standby_e2e
