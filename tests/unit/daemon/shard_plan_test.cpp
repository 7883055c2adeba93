// The shard coordinator's decisions (shard_plan.hpp): what a rebalance gives up and takes, when
// a shard is free to take in durable and in memory mode, and whom /api/shards names as owner.
#include "telluride/daemon/shard_plan.hpp"

#include <doctest/doctest.h>

#include <string>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_plan_test {

using namespace telluride;

namespace {

using held_map = std::map<std::string, std::set<std::uint32_t>, std::less<>>;

auto gone_are(std::set<std::string> gone) {
  return [gone = std::move(gone)](std::string_view n) { return gone.count(std::string(n)) != 0; };
}

} // namespace

TEST_CASE("a rebalance gives up the shards no longer assigned and takes the assigned ones that can be taken") {
  auto moves = plan_moves({0, 2, 5, 7}, {2, 3, 4, 7, 9}, [](std::uint32_t s) { return s != 4; });
  CHECK(moves.lost == std::vector<std::uint32_t>{0, 5});
  CHECK(moves.gained == std::vector<std::uint32_t>{3, 9});  // 4 is not free yet: later
  CHECK_FALSE(moves.empty());
  CHECK(plan_moves({1, 2}, {1, 2}, [](std::uint32_t) { return true; }).empty());
  CHECK(plan_moves({}, {1}, [](std::uint32_t) { return false; }).empty());
  auto none = plan_moves({1, 2}, {}, [](std::uint32_t) { return true; });  // another K is heard: give up all
  CHECK(none.lost == std::vector<std::uint32_t>{1, 2});
  CHECK(none.gained.empty());
}

TEST_CASE("in durable mode a shard is free when never claimed, released, claimed by this name, or its node is gone") {
  const auto nobody_gone = gone_are({});
  CHECK(is_claim_free(shard_holder_view{}, "a", nobody_gone));
  CHECK(is_claim_free(shard_holder_view{3, "b", true}, "a", nobody_gone));
  CHECK(is_claim_free(shard_holder_view{3, "a", false}, "a", nobody_gone));  // an earlier process of "a"
  CHECK_FALSE(is_claim_free(shard_holder_view{3, "b", false}, "a", nobody_gone));
  CHECK(is_claim_free(shard_holder_view{3, "b", false}, "a", gone_are({"b"})));
}

TEST_CASE("in memory mode a shard is free when no other live node's heartbeat holds it") {
  const held_map held_by{{"a", {1}}, {"b", {2, 3}}, {"c", {4}}};
  auto live = [](std::string_view n) { return n != "c"; };
  CHECK(is_unheld(0, "a", held_by, live));
  CHECK(is_unheld(1, "a", held_by, live));  // its own heartbeat
  CHECK_FALSE(is_unheld(2, "a", held_by, live));
  CHECK(is_unheld(4, "a", held_by, live));  // c is not live
}

TEST_CASE("the owner named for a shard held elsewhere: the claim that holds, the live heartbeat, else the assignment") {
  CHECK(owner_by_claim(shard_holder_view{2, "b", false}, "c", gone_are({})) == "b");
  CHECK(owner_by_claim(shard_holder_view{2, "b", true}, "c", gone_are({})) == "c");
  CHECK(owner_by_claim(shard_holder_view{2, "b", false}, "c", gone_are({"b"})) == "c");
  CHECK(owner_by_claim(shard_holder_view{}, "", gone_are({})).empty());
  const held_map held_by{{"b", {2}}, {"d", {5}}};
  auto live = [](std::string_view n) { return n == "b"; };
  CHECK(owner_by_heartbeat(2, "c", held_by, live) == "b");
  CHECK(owner_by_heartbeat(5, "c", held_by, live) == "c");
  CHECK(owner_by_heartbeat(7, "", held_by, live).empty());
}

} // namespace shard_plan_test
