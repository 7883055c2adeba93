#include "causeway/sharding/shard_assignment.hpp"

#include "causeway/sharding/stable_hash.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace causeway::sharding {

namespace {

constexpr std::uint32_t no_owner = std::numeric_limits<std::uint32_t>::max();

struct pair_weight {
  std::uint64_t weight;
  std::uint32_t member;  // index into the sorted names: a lower index is a lower name
  std::uint32_t shard;
};

/// Heaviest first; equal weights by member name, then shard.
bool heavier(const pair_weight& a, const pair_weight& b) noexcept {
  if (a.weight != b.weight)
    return a.weight > b.weight;
  if (a.member != b.member)
    return a.member < b.member;
  return a.shard < b.shard;
}

} // namespace

expected<shard_assignment> shard_assignment::compute(std::uint32_t shards,
                                                     std::vector<std::string> members) {
  if (shards < 1 || shards > max_shards)
    return error{"shard assignment: the shard count must be in 1.." + std::to_string(max_shards) +
                 ", got " + std::to_string(shards)};
  for (const auto& name : members) {
    if (name.empty())
      return error{"shard assignment: a member name is empty"};
    if (name.size() > max_name_bytes)
      return error{"shard assignment: a member name has " + std::to_string(name.size()) +
                   " bytes, more than " + std::to_string(max_name_bytes)};
  }
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  if (members.size() > max_members)
    return error{"shard assignment: " + std::to_string(members.size()) + " members, more than " +
                 std::to_string(max_members)};

  shard_assignment out;
  out.shards_ = shards;
  out.members_ = std::move(members);
  const auto n = static_cast<std::uint32_t>(out.members_.size());
  if (n == 0)
    return out;

  std::vector<pair_weight> pairs;
  pairs.reserve(static_cast<std::size_t>(n) * shards);
  for (std::uint32_t m = 0; m < n; ++m) {
    const auto member_hash = fnv1a_64(out.members_[m]);
    for (std::uint32_t s = 0; s < shards; ++s)
      pairs.push_back({rendezvous_weight(member_hash, s), m, s});
  }
  std::sort(pairs.begin(), pairs.end(), heavier);

  const std::uint32_t base = shards / n;     // every member takes this many
  std::uint32_t extras_left = shards % n;    // this many members take one more
  std::vector<std::uint32_t> held(n, 0);
  out.owners_.assign(shards, no_owner);
  std::uint32_t unowned = shards;
  for (const auto& p : pairs) {
    if (out.owners_[p.shard] != no_owner)
      continue;
    if (held[p.member] == base) {
      if (extras_left == 0)
        continue;
      --extras_left;
    } else if (held[p.member] > base) {
      continue;
    }
    out.owners_[p.shard] = p.member;
    ++held[p.member];
    if (--unowned == 0)
      break;
  }
  return out;
}

std::string_view shard_assignment::owner_of(std::uint32_t shard) const noexcept {
  if (shard >= owners_.size())
    return {};
  return members_[owners_[shard]];
}

std::vector<std::uint32_t> shard_assignment::shards_of(std::string_view member) const {
  std::vector<std::uint32_t> out;
  auto it = std::lower_bound(members_.begin(), members_.end(), member);
  if (it == members_.end() || *it != member)
    return out;
  const auto index = static_cast<std::uint32_t>(it - members_.begin());
  for (std::uint32_t s = 0; s < owners_.size(); ++s)
    if (owners_[s] == index)
      out.push_back(s);
  return out;
}

std::uint32_t shard_assignment::moved_from(const shard_assignment& before) const noexcept {
  if (before.shards_ != shards_)
    return shards_;
  std::uint32_t moved = 0;
  for (std::uint32_t s = 0; s < shards_; ++s)
    if (owner_of(s) != before.owner_of(s))
      ++moved;
  return moved;
}

} // namespace causeway::sharding
