// most_demand.hpp — which consumer gets the next vector when any of them may take it.
//
// A producer stage (without processors.partition_by) and a batcher (without partition_by) send
// their next vector or batch to the consumer that asked for the most and has not received it yet,
// so the least busy one is fed first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace causeway::detail {

/// The index of the largest outstanding demand (the first of equals), or nothing when no
/// consumer is owed anything.
inline std::optional<std::size_t> most_demand(std::span<const std::uint64_t> demand) noexcept {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < demand.size(); ++i)
    if (demand[i] > 0 && (!best || demand[i] > demand[*best]))
      best = i;
  return best;
}

} // namespace causeway::detail
