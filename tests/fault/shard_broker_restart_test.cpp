// Fault matrix: the broker restarts (stop_app / start_app) while two daemons share 4 shards and
// work through a backlog. Both stay alive, reconnect and go on with the shards they held (the
// membership judges nobody while no heartbeat comes through), and every sensor's aggregate is
// exact over every reading published.
#include "fault_checks.hpp"

#include "../e2e/shard_members.hpp"

#include <unistd.h>

#include <thread>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_broker_restart_test {

using namespace fault_test;

namespace {

double consumed_by(const std::vector<daemon_process*>& daemons) {
  double sum = 0;
  for (auto* d : daemons)
    sum += std::max(0.0, metric_of(d->port(), "telluride_amqp_consumed_total"));
  return sum;
}

void two_daemons_through_broker_restarts(int restarts, std::size_t readings) {
  amqp_test::private_broker broker{static_cast<int>(broker_slot::sharded_restarts)};
  const auto id = std::to_string(::getpid());
  // 300 readings/s per daemon (the rate limit holds over all of a daemon's producers): a backlog
  // is still queued at every restart.
  daemon_process a{"shrestart" + id,
                   {{"amqp_url", broker.url()}, {"shards", 4}, {"rate_limit_allowed", 30}, {"rate_limit_interval", 100},
                    {"prefetch_count", 20}}};
  daemon_process b{"shrestartb" + id};
  launch_member(a, a, "restart-a");
  launch_member(b, a, "restart-b");
  CHECK(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 10s));
  reading_set set{200, readings, 71, "shrestart"};
  {
    amqp_session s{broker.url()};
    publish_keyed(s, a, set, 0, readings);
  }
  double consumed = 0;
  for (int round = 0; round < restarts; ++round) {
    INFO("restart " << round + 1 << " of " << restarts);
    CHECK(eventually([&] { return consumed_by({&a, &b}) >= consumed + 600; }, 30s));
    REQUIRE_MESSAGE(broker.ctl("stop_app") == 0, broker.last_output());
    CHECK(readyz_becomes(a, 503, 15s));
    CHECK(readyz_becomes(b, 503, 15s));
    std::this_thread::sleep_for(1s);
    REQUIRE_MESSAGE(broker.ctl("start_app") == 0, broker.last_output());
    CHECK(readyz_becomes(a, 200, 40s));
    CHECK(readyz_becomes(b, 200, 40s));
    require_alive(a);
    require_alive(b);
    consumed = consumed_by({&a, &b});
  }
  // Each goes on with its own shards: nobody was taken for gone.
  CHECK(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 15s));

  amqp_session s{broker.url()};
  aggregate_view aggregates;
  const auto want = set.expected(readings);
  CHECK(eventually([&] { aggregates.update(s, a); return aggregates.matches(want); }, 120s));
  aggregates.check(want);
  for (int shard = 0; shard < 4; ++shard)
    CHECK(s.ready(a.route("readings_queue") + "." + std::to_string(shard)) == 0);
  CHECK(s.ready(a.route("dead_letter_queue")) == 0);
  CHECK(b.stop() == std::optional<int>{0});
  CHECK(a.stop() == std::optional<int>{0});
}

} // namespace

TEST_CASE("broker restarts while two daemons share 4 shards: both resume, aggregates exact [ci]") {
  two_daemons_through_broker_restarts(1, 4'000);
}

TEST_CASE("broker restarts while two daemons share 4 shards: both resume, aggregates exact [full]") {
  two_daemons_through_broker_restarts(3, 12'000);
}

} // namespace shard_broker_restart_test
