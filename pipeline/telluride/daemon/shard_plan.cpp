#include "telluride/daemon/shard_plan.hpp"

#include <algorithm>
#include <iterator>

namespace telluride {

shard_moves plan_moves(const std::vector<std::uint32_t>& owned, const std::vector<std::uint32_t>& wanted,
                       const std::function<bool(std::uint32_t)>& can_take) {
  shard_moves moves;
  std::set_difference(owned.begin(), owned.end(), wanted.begin(), wanted.end(), std::back_inserter(moves.lost));
  for (std::uint32_t s : wanted)
    if (!std::binary_search(owned.begin(), owned.end(), s) && can_take(s))
      moves.gained.push_back(s);
  return moves;
}

bool is_claim_free(const shard_holder_view& holder, std::string_view self,
                   const std::function<bool(std::string_view)>& is_gone) {
  return holder.epoch == 0 || holder.is_released || holder.node == self || is_gone(holder.node);
}

bool is_unheld(std::uint32_t shard, std::string_view self,
               const std::map<std::string, std::set<std::uint32_t>, std::less<>>& held_by,
               const std::function<bool(std::string_view)>& is_live) {
  for (const auto& [node, shards] : held_by)
    if (node != self && is_live(node) && shards.count(shard) != 0)
      return false;
  return true;
}

std::string owner_by_claim(const shard_holder_view& holder, std::string assigned,
                           const std::function<bool(std::string_view)>& is_gone) {
  if (holder.epoch != 0 && !holder.is_released && !is_gone(holder.node))
    return holder.node;
  return assigned;
}

std::string owner_by_heartbeat(std::uint32_t shard, std::string assigned,
                               const std::map<std::string, std::set<std::uint32_t>, std::less<>>& held_by,
                               const std::function<bool(std::string_view)>& is_live) {
  for (const auto& [node, shards] : held_by)
    if (is_live(node) && shards.count(shard) != 0)
      return node;
  return assigned;
}

} // namespace telluride
