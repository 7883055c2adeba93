// Fault matrix: three daemons share the 12 shards of one config (CONTRACT §7, Sharing) while
// readings flow; one is killed with kill -9, another stopped with SIGTERM. Each time the
// survivors take the shards over (from the dead one once its heartbeat lapsed, from the
// stopped one once it released them), restore them from the state stream, and go on. At the
// end every sensor's aggregate is exact over every reading published, the shard queues are
// empty and nothing is unacknowledged. Also one daemon holding every shard, killed and started
// again under its node name: it takes its shards back without waiting for a lapse.
#include "fault_checks.hpp"

#include "../e2e/shard_members.hpp"

#include <signal.h>
#include <unistd.h>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_sharing_test {

using namespace fault_test;

namespace {

struct sharing_run {
  std::size_t readings;
  std::size_t sensors;
};

constexpr int shards = 12;

/// The daemons of `ports` split `k` shards as CONTRACT §7 says within `timeout`.
bool split_within_of(int k, const std::vector<int>& ports, std::chrono::milliseconds timeout) {
  return eventually([&] { return shards_split(ports, k); }, timeout);
}

/// The same for the 12 shards of the three-daemon scenario.
bool split_within(const std::vector<int>& ports, std::chrono::milliseconds timeout) {
  return split_within_of(shards, ports, timeout);
}

void three_daemons_share_the_shards(const sharing_run& run) {
  // 300 readings/s per daemon (the rate limit holds over all of a daemon's producers): the kill
  // and the stop come with readings still queued. A small prefetch keeps each handover's drain
  // short at that rate (it applies what the channels took).
  const auto id = std::to_string(::getpid());
  daemon_process a{"share" + id,
                   {{"shards", shards}, {"rate_limit_allowed", 30}, {"rate_limit_interval", 100}, {"prefetch_count", 20}}};
  daemon_process b{"shareb" + id};
  daemon_process c{"sharec" + id};
  launch_member(a, a, "node-a");
  launch_member(b, a, "node-b");
  launch_member(c, a, "node-c");
  // Each is active on exactly 4 within 10 s of starting.
  CHECK(split_within({a.port(), b.port(), c.port()}, 10s));
  for (int port : {a.port(), b.port(), c.port()})
    CHECK(active_shards(port).size() == 4);

  reading_set set{run.sensors, run.readings, 97, "share"};
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  publish_keyed(s, a, set, 0, run.readings);

  // kill -9 of node-b a third of the way through its share.
  require_alive(b);
  CHECK(metric_reaches(b, "telluride_amqp_consumed_total", static_cast<double>(run.readings) / 9, 60s));
  CHECK(b.stop(SIGKILL) == std::optional<int>{128 + SIGKILL});
  // Its heartbeat lapses 5 s after the last one; within 10 s of that the two others hold all.
  CHECK(split_within({a.port(), c.port()}, 16s));
  for (int port : {a.port(), c.port()})
    CHECK(active_shards(port).size() == 6);

  // SIGTERM of node-c while readings still wait: it drains, checkpoints and releases its
  // shards, and node-a takes them once c's heartbeat is gone.
  require_alive(c);
  std::uint32_t waiting = 0;
  for (int shard = 0; shard < shards; ++shard)
    waiting += s.ready(a.route("readings_queue") + "." + std::to_string(shard));
  CHECK(waiting > 0);
  CHECK(c.stop(SIGTERM) == std::optional<int>{0});
  const auto log = c.log();
  CHECK(log.find("released (shutting down)") != std::string::npos);
  CHECK(split_within({a.port()}, 16s));

  require_alive(a);
  aggregate_view aggregates;
  const auto want = set.expected(run.readings);
  CHECK(eventually([&] { aggregates.update(s, a); return aggregates.matches(want); }, 120s));
  aggregates.check(want);
  CHECK(metric_of(a.port(), "telluride_sensors") == static_cast<double>(run.sensors));
  for (int shard = 0; shard < shards; ++shard) {
    auto queue = amqp_test::list_queue(a.route("readings_queue") + "." + std::to_string(shard));
    CHECK(queue.ready == 0);
    CHECK(queue.unacked == 0);
  }
  CHECK(s.ready(a.route("readings_queue")) == 0);
  CHECK(s.ready(a.route("dead_letter_queue")) == 0);
  CHECK(a.stop() == std::optional<int>{0});
}

void one_daemon_killed_and_started_again(const sharing_run& run) {
  daemon_process d{"sharekill" + std::to_string(::getpid()),
                   {{"shards", 4}, {"rate_limit_allowed", 30}, {"rate_limit_interval", 100}, {"prefetch_count", 20}}};
  launch_member(d, d, "solo");
  CHECK(split_within_of(4, {d.port()}, 10s));
  reading_set set{run.sensors, run.readings, 13, "sharekill"};
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  publish_keyed(s, d, set, 0, run.readings);
  CHECK(metric_reaches(d, "telluride_amqp_consumed_total", static_cast<double>(run.readings) / 3, 60s));
  CHECK(d.stop(SIGKILL) == std::optional<int>{128 + SIGKILL});
  // The same node name again: the claims in the stream are an earlier process's of its own, so
  // it takes its shards back at once, with a new claim each.
  launch_member(d, d, "solo");
  CHECK(split_within_of(4, {d.port()}, 10s));
  CHECK(d.log().find("taken with epoch 2: restored in") != std::string::npos);
  require_alive(d);
  aggregate_view aggregates;
  const auto want = set.expected(run.readings);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 120s));
  aggregates.check(want);
  for (int shard = 0; shard < 4; ++shard) {
    auto queue = amqp_test::list_queue(d.route("readings_queue") + "." + std::to_string(shard));
    CHECK(queue.ready == 0);
    CHECK(queue.unacked == 0);
  }
  CHECK(d.stop() == std::optional<int>{0});
}

} // namespace

TEST_CASE("one daemon holding 4 shards, killed with kill -9 and started again under its node name: aggregates exact [ci]") {
  one_daemon_killed_and_started_again({4'000, 200});
}

TEST_CASE("one daemon holding 4 shards, killed with kill -9 and started again under its node name: aggregates exact [full]") {
  one_daemon_killed_and_started_again({20'000, 500});
}

TEST_CASE("three daemons share 12 shards, kill -9 one and stop one mid-stream: shards move, aggregates exact [ci]") {
  three_daemons_share_the_shards({12'000, 300});
}

TEST_CASE("three daemons share 12 shards, kill -9 one and stop one mid-stream: shards move, aggregates exact [full]") {
  three_daemons_share_the_shards({30'000, 600});
}

} // namespace shard_sharing_test
