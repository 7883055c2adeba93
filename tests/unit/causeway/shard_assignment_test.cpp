// Claims about shard_assignment and its hashes: fixed values, balance, determinism, and how
// many shards a member joining or leaving moves, compared with the fewest any balanced
// assignment could move.
#include "causeway/sharding/shard_assignment.hpp"
#include "causeway/sharding/stable_hash.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_assignment_test {

using namespace causeway::sharding;

namespace {

std::vector<std::string> nodes(std::uint32_t n) {
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < n; ++i)
    out.push_back("node-" + std::to_string(i));
  return out;
}

shard_assignment assign(std::uint32_t shards, std::vector<std::string> members) {
  auto result = shard_assignment::compute(shards, std::move(members));
  REQUIRE(result.has_value());
  return *result;
}

/// Owners as the digits of "node-<digit>" names, for short comparisons.
std::vector<int> owner_digits(const shard_assignment& a) {
  std::vector<int> out;
  for (std::uint32_t s = 0; s < a.shards(); ++s)
    out.push_back(a.owner_of(s).back() - '0');
  return out;
}

/// The fewest shards any balanced assignment of `before.shards()` shards to `members` must
/// move away from `before`. A shard keeps its owner only if that owner is still a member, and
/// a member keeps at most its new share; the K mod N larger shares go, at best, to the members
/// that held the most before. Every other shard moves.
std::uint32_t fewest_moves(const shard_assignment& before, const std::vector<std::string>& members) {
  const auto k = before.shards();
  const auto n = static_cast<std::uint32_t>(members.size());
  std::vector<std::uint32_t> held;
  for (const auto& m : members)
    held.push_back(static_cast<std::uint32_t>(before.shards_of(m).size()));
  std::sort(held.rbegin(), held.rend());
  std::uint32_t kept = 0;
  for (std::uint32_t i = 0; i < n; ++i)
    kept += std::min(held[i], k / n + (i < k % n ? 1 : 0));
  return k - kept;
}

std::vector<std::string> without(std::vector<std::string> members, const std::string& gone) {
  members.erase(std::find(members.begin(), members.end(), gone));
  return members;
}

} // namespace

TEST_CASE("the hashes have their published values, so every version of every process agrees") {
  CHECK(fnv1a_64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a_64("foobar") == 0x85944171f73967e8ULL);
  CHECK(splitmix_64(0) == 0xe220a8397b1dcdafULL);
  CHECK(rendezvous_weight(fnv1a_64("node-0"), 3) == 0x1b50e941461e10b8ULL);
}

TEST_CASE("the owners of 12 shards are fixed (computed independently by a reference script)") {
  CHECK(owner_digits(assign(12, nodes(3))) == std::vector<int>{2, 2, 2, 1, 1, 2, 0, 0, 0, 0, 1, 1});
  CHECK(owner_digits(assign(12, nodes(4))) == std::vector<int>{2, 2, 3, 1, 3, 2, 0, 0, 3, 0, 1, 1});
  auto abc = assign(5, {"b", "a", "c"});
  std::vector<std::string> owners;
  for (std::uint32_t s = 0; s < 5; ++s)
    owners.emplace_back(abc.owner_of(s));
  CHECK(owners == std::vector<std::string>{"b", "c", "b", "c", "a"});
}

TEST_CASE("bad input is refused with one line naming it") {
  CHECK(shard_assignment::compute(0, nodes(2)).err().message ==
        "shard assignment: the shard count must be in 1..1024, got 0");
  CHECK(shard_assignment::compute(1025, nodes(2)).err().message ==
        "shard assignment: the shard count must be in 1..1024, got 1025");
  CHECK(shard_assignment::compute(4, {"a", ""}).err().message ==
        "shard assignment: a member name is empty");
  CHECK(shard_assignment::compute(4, {std::string(256, 'x')}).err().message ==
        "shard assignment: a member name has 256 bytes, more than 255");
  std::vector<std::string> crowd;
  for (int i = 0; i < 1025; ++i)
    crowd.push_back(std::to_string(i));
  CHECK(shard_assignment::compute(4, crowd).err().message ==
        "shard assignment: 1025 members, more than 1024");
  crowd.pop_back();
  CHECK(shard_assignment::compute(4, crowd).has_value());
  CHECK(shard_assignment::compute(1024, {std::string(255, 'x')}).has_value());
}

TEST_CASE("without members no shard has an owner") {
  auto empty = assign(8, {});
  CHECK(empty.members().empty());
  for (std::uint32_t s = 0; s < 8; ++s)
    CHECK(empty.owner_of(s).empty());
  CHECK(empty.shards_of("node-0").empty());
  CHECK(assign(8, nodes(1)).moved_from(empty) == 8);
}

TEST_CASE("every member gets the floor or the ceiling of K/N shards, and K mod N get the ceiling") {
  auto check_balance = [](std::uint32_t k, std::uint32_t n) {
    CAPTURE(k);
    CAPTURE(n);
    auto a = assign(k, nodes(n));
    std::uint32_t total = 0;
    std::uint32_t at_ceiling = 0;
    for (const auto& m : a.members()) {
      const auto held = static_cast<std::uint32_t>(a.shards_of(m).size());
      CHECK((held == k / n || held == k / n + 1));
      at_ceiling += held == k / n + 1 ? 1 : 0;
      total += held;
    }
    CHECK(total == k);  // every shard has exactly one owner
    CHECK(at_ceiling == k % n);
    for (std::uint32_t s = 0; s < k; ++s)
      CHECK(!a.owner_of(s).empty());
  };
  for (std::uint32_t k = 1; k <= 64; ++k)
    for (std::uint32_t n = 1; n <= 10; ++n)
      check_balance(k, n);
  check_balance(1024, 7);  // 1024 = 7 × 146 + 2

  auto big = assign(1024, nodes(7));
  std::map<std::size_t, int> members_by_count;
  for (const auto& m : big.members())
    ++members_by_count[big.shards_of(m).size()];
  CHECK(members_by_count == std::map<std::size_t, int>{{146, 5}, {147, 2}});
}

TEST_CASE("the order of the names and repeated names change nothing") {
  const std::vector<std::string> names = {"delta", "alpha", "echo", "charlie", "bravo"};
  const auto reference = assign(37, names);
  CHECK(reference.members() == std::vector<std::string>{"alpha", "bravo", "charlie", "delta", "echo"});
  auto shuffled = names;
  std::sort(shuffled.begin(), shuffled.end());
  int permutations = 0;
  do {
    CHECK(assign(37, shuffled) == reference);
    ++permutations;
  } while (std::next_permutation(shuffled.begin(), shuffled.end()));
  CHECK(permutations == 120);
  auto repeated = names;
  repeated.insert(repeated.end(), {"alpha", "echo", "alpha"});
  CHECK(assign(37, repeated) == reference);
  CHECK(assign(37, names).moved_from(reference) == 0);
}

TEST_CASE("12 shards: a fourth member takes one shard from each of three, and gives them back") {
  const auto three = assign(12, nodes(3));
  const auto four = assign(12, nodes(4));
  CHECK(fewest_moves(three, nodes(4)) == 3);
  CHECK(four.moved_from(three) == 3);
  CHECK(four.shards_of("node-3") == std::vector<std::uint32_t>{2, 4, 8});
  CHECK(fewest_moves(four, nodes(3)) == 3);
  CHECK(three.moved_from(four) == 3);
  // the shards that did not go to node-3 kept their owner
  for (std::uint32_t s = 0; s < 12; ++s)
    if (four.owner_of(s) != "node-3")
      CHECK(four.owner_of(s) == three.owner_of(s));
}

// Over K in 1..64 and N in 1..10: node-N joins node-0..node-(N-1), leaves again, and instead
// node-(N/2) leaves node-0..node-N. Rendezvous without capacities would move exactly the
// minimum; the capacities add chains, whose length follows from the random imbalance of what
// the member that joins (or leaves) wins from each other member: of the order of √K shards.
// Measured: join 4844 moves for a minimum of 3947, last member leaving 4844 for 4136, middle
// member leaving 5069 for 4205 (1.20 × the minimum in all; 664 of the 1920 events move exactly
// the minimum, none more than ⌊√K⌋ above it).
TEST_CASE("a member joining or leaving moves close to the fewest shards possible") {
  struct tally {
    std::uint64_t moved = 0;
    std::uint64_t fewest = 0;
    int exact = 0;
  };
  std::map<std::string, tally> by_event;
  auto count = [&](const std::string& event, const shard_assignment& before,
                   const std::vector<std::string>& members) {
    const auto after = assign(before.shards(), members);
    const auto moved = after.moved_from(before);
    const auto fewest = fewest_moves(before, members);
    std::uint32_t root = 0;
    while ((root + 1) * (root + 1) <= before.shards())
      ++root;
    CAPTURE(event);
    CHECK(moved >= fewest);
    CHECK(moved <= fewest + root);
    auto& t = by_event[event];
    t.moved += moved;
    t.fewest += fewest;
    t.exact += moved == fewest ? 1 : 0;
  };
  for (std::uint32_t k = 1; k <= 64; ++k) {
    for (std::uint32_t n = 1; n <= 10; ++n) {
      CAPTURE(k);
      CAPTURE(n);
      const auto small = assign(k, nodes(n));
      const auto big = assign(k, nodes(n + 1));
      count("join", small, nodes(n + 1));
      count("last leaves", big, nodes(n));
      count("middle leaves", big, without(nodes(n + 1), "node-" + std::to_string(n / 2)));
    }
  }
  count("1024 shards, 8th joins", assign(1024, nodes(7)), nodes(8));
  count("1024 shards, 8th leaves", assign(1024, nodes(8)), nodes(7));
  std::uint64_t moved = 0;
  std::uint64_t fewest = 0;
  int exact = 0;
  for (const auto& [event, t] : by_event) {
    MESSAGE(event << ": " << t.moved << " shards moved, at least " << t.fewest
                  << " had to; exactly the minimum " << t.exact << " times");
    moved += t.moved;
    fewest += t.fewest;
    exact += t.exact;
  }
  CHECK(moved * 100 <= fewest * 121);  // measured 1.20
  CHECK(exact >= 640);                 // measured 664 of 1920
}

} // namespace shard_assignment_test
