// A holder taken for gone while its connection lives (docs/sharding.md, The handover protocol):
// a daemon stopped with SIGSTOP for longer than the heartbeat lapse keeps its shards' locks, so
// the other daemon, which now judges it gone, claims none of them; once the stopped one goes
// on, it still holds them and every reading counts once.
#include "shard_members.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <unistd.h>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_lock_e2e {

using namespace telluride::test;

TEST_CASE("a daemon silent for longer than the lapse keeps its shards while its connection lives: none is claimed "
          "beside it") {
  const auto id = std::to_string(::getpid());
  daemon_process a{"shardlock" + id, {{"shards", 4}}};
  daemon_process b{"shardlockb" + id};
  launch_member(a, a, "lock-a");
  launch_member(b, a, "lock-b");
  REQUIRE(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 20s));
  const auto held_by_a = active_shards(a.port());
  REQUIRE(held_by_a.size() == 2);

  reading_set set{80, 4'000, 29, "shardlock"};
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  publish_keyed(s, a, set, 0, 2'000);
  aggregate_view aggregates;
  CHECK(eventually([&] { aggregates.update(s, a); return aggregates.matches(set.expected(2'000)); }, 30s));

  const auto taken_by_b = count_of(b.log(), "taken with epoch");
  CHECK(taken_by_b == 2);
  // a is silent for 6-16 s (lapse 5 s), its connections open: b judges it gone, but a's locks
  // keep b from claiming a's shards.
  REQUIRE(::kill(a.pid(), SIGSTOP) == 0);
  publish_keyed(s, a, set, 2'000, 3'000);
  const bool judged_gone =
    eventually([&] { return b.log().find("its lock is still held by the previous holder") != std::string::npos; },
               15s);
  std::this_thread::sleep_for(1s);
  const auto held_by_b = active_shards(b.port());
  REQUIRE(::kill(a.pid(), SIGCONT) == 0);
  CHECK(judged_gone);
  CHECK(held_by_b.size() == 2);  // b took none of a's shards
  CHECK(count_of(b.log(), "taken with epoch") == taken_by_b);  // b claimed nothing more
  CHECK(a.log().find("this node was taken for gone") == std::string::npos);

  publish_keyed(s, a, set, 3'000, 4'000);
  const auto want = set.expected(4'000);
  CHECK(eventually([&] { aggregates.update(s, a); return aggregates.matches(want); }, 60s));
  aggregates.check(want);
  CHECK(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 20s));
  CHECK(active_shards(a.port()) == held_by_a);
  CHECK(a.stop() == std::optional<int>{0});
  CHECK(b.stop() == std::optional<int>{0});
}

} // namespace shard_lock_e2e
