// shard_members.hpp — several daemons sharing the K shards of one config (CONTRACT §7):
// starting them on one config file, publishing readings with their sensor_key header (so the
// broker's consistent hash spreads them over the shard queues), and reading GET /api/shards.
#pragma once

#include "daemon_checks.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace telluride::test {

/// Launches `member` as node `node` on `owner`'s config file (its own HTTP port).
inline void launch_member(daemon_process& member, const daemon_process& owner, const std::string& node) {
  member.launch({"pipeline", "--config", owner.config_path(), "--node", node, "--http",
                 "127.0.0.1:" + std::to_string(member.port())});
}

/// Publishes readings [from, to) of `set` to `d`'s readings route, each with the header
/// sensor_key (as `telluride sensors` sets it), and waits for confirms.
inline void publish_keyed(amqp_session& s, const daemon_process& d, const reading_set& set, std::size_t from,
                          std::size_t to) {
  for (auto i = from; i < to; ++i) {
    const auto& m = set.messages()[i];
    s.publish(d.route("exchange"), d.route("readings_routing_key"), m.body, m.message_id, {},
              {{"sensor_key", set.ids()[m.sensor].key()}});
  }
  s.wait_confirms();
}

/// GET /api/shards of the daemon on `port` (null when it does not answer).
inline nlohmann::json shards_of(int port) {
  auto reply = http_request(port, "GET", "/api/shards");
  if (reply.status != 200)
    return nullptr;
  return nlohmann::json::parse(reply.body);
}

/// The shards the daemon on `port` reports active and owned by itself, ascending.
inline std::vector<int> active_shards(int port) {
  std::vector<int> out;
  auto j = shards_of(port);
  if (j.is_null())
    return out;
  for (const auto& row : j["shards"])
    if (row["state"] == "active" && row["owner"] == j["node"])
      out.push_back(row["shard"].get<int>());
  return out;
}

/// Whether the daemons on `ports` are each active on `each` shards (or `each` + 1 for the
/// first `extra` of them in any order) and together on every one of `shards`, none twice.
inline bool shards_split(const std::vector<int>& ports, int shards) {
  std::map<int, int> holders;
  const int n = static_cast<int>(ports.size());
  for (int port : ports) {
    auto mine = active_shards(port);
    const int count = static_cast<int>(mine.size());
    if (count != shards / n && count != (shards + n - 1) / n)
      return false;
    for (int s : mine)
      ++holders[s];
  }
  if (static_cast<int>(holders.size()) != shards)
    return false;
  for (const auto& [shard, count] : holders)
    if (count != 1)
      return false;
  return true;
}

} // namespace telluride::test
