// shard_plan.hpp — the shard coordinator's decisions, as pure functions (docs/sharding.md, In
// the daemon): which shards a rebalance gives up and takes, when a shard is free to take, and
// whom GET /api/shards names as a shard's owner. No clock, no broker: what the membership says
// comes in as a predicate.
#pragma once

#include "telluride/daemon/shard_claims.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

struct shard_moves {
  std::vector<std::uint32_t> lost;    ///< held and no longer assigned here: drain and release
  std::vector<std::uint32_t> gained;  ///< assigned here, not held, and takeable now
  bool empty() const noexcept { return lost.empty() && gained.empty(); }
};

/// `owned` and `wanted` ascending. A shard wanted and not owned is gained when `can_take` says so
/// (free, and not waiting to retry); the others wait for a later rebalance.
shard_moves plan_moves(const std::vector<std::uint32_t>& owned, const std::vector<std::uint32_t>& wanted,
                       const std::function<bool(std::uint32_t)>& can_take);

/// Durable mode: a shard is free for `self` when the stream shows no claim on it, a released
/// one, one of `self`'s own name (an earlier process of it), or one whose node is gone.
bool is_claim_free(const shard_holder_view& holder, std::string_view self,
                   const std::function<bool(std::string_view)>& is_gone);

/// Memory mode: shard `shard` is free for `self` when no other live node's latest heartbeat
/// lists it (`held_by`: node → the shards its latest heartbeat holds).
bool is_unheld(std::uint32_t shard, std::string_view self,
               const std::map<std::string, std::set<std::uint32_t>, std::less<>>& held_by,
               const std::function<bool(std::string_view)>& is_live);

/// Whom GET /api/shards names for a shard not held here: in durable mode the node of a claim that
/// still holds (not released, node not gone), in memory mode a live node whose heartbeat holds
/// it; otherwise `assigned` (the assignment's owner, possibly empty).
std::string owner_by_claim(const shard_holder_view& holder, std::string assigned,
                           const std::function<bool(std::string_view)>& is_gone);
std::string owner_by_heartbeat(std::uint32_t shard, std::string assigned,
                               const std::map<std::string, std::set<std::uint32_t>, std::less<>>& held_by,
                               const std::function<bool(std::string_view)>& is_live);

} // namespace telluride
