// Who may share the shards (CONTRACT §7; docs/sharding.md, In the daemon): node names are
// unique (a second daemon with a name in use stops at start with one line), and daemons with
// different `shards` values do not share them (each takes no shard while it hears the other).
#include "shard_members.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <thread>

// Its own namespace: the unity build compiles several test files as one.
namespace daemon_members_test {

using namespace telluride::test;

TEST_CASE("a second daemon with a node name in use stops at start with one line naming it") {
  const auto id = std::to_string(::getpid());
  daemon_process a{"twins" + id, {{"shards", 2}, {"state", "memory"}}};
  daemon_process b{"twinsb" + id};
  launch_member(a, a, "twin");
  REQUIRE(eventually([&] { return active_shards(a.port()).size() == 2; }, 10s));
  launch_member(b, a, "twin");
  CHECK(b.wait(20s) == std::optional<int>{1});
  const auto log = b.log();
  INFO(log);
  const std::string line = "telluride pipeline: another daemon runs with the node name twin (its queue ";
  CHECK(log.find(line) != std::string::npos);
  CHECK(log.find(".members.twin is in use); node names must be unique\n") != std::string::npos);
  // The first one goes on with both shards.
  CHECK(active_shards(a.port()).size() == 2);
  CHECK(a.stop() == std::optional<int>{0});
}

TEST_CASE("daemons with different shards values take no shard while they hear each other") {
  const auto id = std::to_string(::getpid());
  daemon_process a{"layouts" + id, {{"shards", 4}, {"state", "memory"}}};
  daemon_process b{"layoutsb" + id};
  launch_member(a, a, "four");
  REQUIRE(eventually([&] { return active_shards(a.port()).size() == 4; }, 10s));
  b.launch({"pipeline", "--config", a.config_path(), "--node", "two", "--shards", "2", "--http",
            "127.0.0.1:" + std::to_string(b.port())});
  CHECK(eventually([&] { return active_shards(a.port()).empty(); }, 10s));
  CHECK(eventually(
    [&] {
      return b.log().find("node four runs with shards 4, this one with 2: this node takes no shard while it is "
                          "heard") != std::string::npos;
    },
    10s));
  CHECK(a.log().find("node two runs with shards 2, this one with 4: this node takes no shard while it is heard") !=
        std::string::npos);
  // Past the 2.5 s in which a daemon only listens: neither took a shard.
  std::this_thread::sleep_for(3s);
  CHECK(active_shards(a.port()).empty());
  CHECK(active_shards(b.port()).empty());
  // Once the other is gone (5 s after its last heartbeat), it takes part again.
  CHECK(b.stop() == std::optional<int>{0});
  CHECK(eventually([&] { return active_shards(a.port()).size() == 4; }, 15s));
  CHECK(a.log().find("no node with another shards value is heard any more: taking part again") != std::string::npos);
  CHECK(a.stop() == std::optional<int>{0});
}

} // namespace daemon_members_test
