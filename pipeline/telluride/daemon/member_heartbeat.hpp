// member_heartbeat.hpp — what a daemon announces about itself every second on the members
// exchange (`<state_stream>.members`, fanout; docs/sharding.md, Membership): its node name,
// the start id of its process, the layout K it runs with, and the shards it holds with their
// states. One small JSON object per message:
//
//   {"node":"a","start_id":123,"shards":12,"held":[{"shard":0,"state":"active"}, ...]}
//
// Pure: encode and decode. decode takes any bytes (they come from the broker) and returns a
// heartbeat or a one-line error; it never recurses deeper than the object and its list.
#pragma once

#include "telluride/domain/expected.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

struct held_shard {
  std::uint32_t shard = 0;
  std::string state;  ///< active, restoring or handing_over (as GET /api/shards says)
  friend bool operator==(const held_shard&, const held_shard&) = default;
};

struct member_heartbeat {
  std::string node;
  std::uint64_t start_id = 0;
  std::uint32_t shards = 1;  ///< the layout K
  std::vector<held_shard> held;
  friend bool operator==(const member_heartbeat&, const member_heartbeat&) = default;
};

/// The largest heartbeat body decoded (1,024 held shards fit in ~40 KiB).
inline constexpr std::size_t max_heartbeat_size = 64 * 1024;

std::string encode_heartbeat(const member_heartbeat& heartbeat);

/// The heartbeat in `bytes`; an error names the first problem (`heartbeat: "shards" must be an
/// integer in 1..1024`). Checks: at most max_heartbeat_size bytes, an object, node 1..255
/// bytes, start_id an unsigned integer, shards 1..1024, each held shard below shards with a
/// known state, no shard twice.
expected<member_heartbeat> decode_heartbeat(std::string_view bytes);

} // namespace telluride
