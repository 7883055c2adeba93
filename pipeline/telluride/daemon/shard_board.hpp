// shard_board.hpp — the shards as this daemon sees them, for GET /api/shards, /metrics and
// /api/topology (CONTRACT §7): the shard coordinator writes it every tick, HTTP reads it.
// Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace telluride {

struct shard_row {
  std::uint32_t shard = 0;
  std::string queue;
  std::string owner;             ///< node name; empty when nobody is known to own it
  std::string state = "standby"; ///< active, standby, restoring or handing_over (here)
  std::uint64_t sensors = 0;     ///< sensors of the shard tracked here
  std::int64_t checkpoint_lag_ms = 0;
};

struct shard_board_view {
  std::string node;
  std::uint32_t layout = 1;
  std::vector<shard_row> shards;  ///< every shard of the layout, ascending; empty with shards 1
  std::vector<std::string> members;  ///< live members, sorted
};

class shard_board {
public:
  void publish(shard_board_view view) {
    std::lock_guard lock(mutex_);
    view_ = std::move(view);
  }
  shard_board_view view() const {
    std::lock_guard lock(mutex_);
    return view_;
  }

private:
  mutable std::mutex mutex_;
  shard_board_view view_;
};

/// Milliseconds from the latest confirmed checkpoint round (`last_confirmed_ms`, epoch ms; 0:
/// none yet) to `now_ms`: a row's checkpoint_lag_ms (0 before the first round).
inline std::int64_t checkpoint_lag_ms(std::int64_t last_confirmed_ms, std::int64_t now_ms) {
  return last_confirmed_ms == 0 ? 0 : std::max<std::int64_t>(0, now_ms - last_confirmed_ms);
}

/// With shards 1 the layout's one shard is the readings queue itself: this node's view of it
/// (no coordinator writes a board then). `owner`: this node when it holds the readings lock,
/// empty while another daemon does (this one stands by).
inline shard_board_view single_shard_view(std::string node, std::string queue, std::string state,
                                          std::uint64_t sensors, std::int64_t checkpoint_lag_ms) {
  shard_row row;
  row.queue = std::move(queue);
  row.owner = state == "standby" ? std::string{} : node;
  row.state = std::move(state);
  row.sensors = sensors;
  row.checkpoint_lag_ms = checkpoint_lag_ms;
  shard_board_view view;
  view.node = std::move(node);
  view.shards.push_back(std::move(row));
  return view;
}

/// GET /api/shards: {"node": ..., "shards": [{"shard", "queue", "owner", "state", "sensors",
/// "checkpoint_lag_ms"}, ...]}.
inline nlohmann::json shards_json(const shard_board_view& view) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : view.shards)
    rows.push_back({{"shard", r.shard}, {"queue", r.queue}, {"owner", r.owner}, {"state", r.state},
                    {"sensors", r.sensors}, {"checkpoint_lag_ms", r.checkpoint_lag_ms}});
  return {{"node", view.node}, {"shards", std::move(rows)}};
}

/// The shards in Prometheus text (appended to /metrics with K > 1): per shard of the layout,
/// telluride_shard_state{shard,queue,state,owner} 1, telluride_shard_sensors and
/// telluride_shard_checkpoint_lag_ms; telluride_shard_members (live members seen).
inline std::string shards_metrics(const shard_board_view& view) {
  if (view.shards.empty())
    return {};
  auto quoted = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '\\' || c == '"')
        out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    return out;
  };
  std::string out;
  out += "# HELP telluride_shard_state The state of each shard on this node (label state), and its owner.\n";
  out += "# TYPE telluride_shard_state gauge\n";
  for (const auto& r : view.shards)
    out += "telluride_shard_state{shard=\"" + std::to_string(r.shard) + "\",queue=\"" + quoted(r.queue) +
           "\",state=\"" + r.state + "\",owner=\"" + quoted(r.owner) + "\"} 1\n";
  out += "# HELP telluride_shard_sensors Sensors of each shard tracked on this node.\n";
  out += "# TYPE telluride_shard_sensors gauge\n";
  for (const auto& r : view.shards)
    out += "telluride_shard_sensors{shard=\"" + std::to_string(r.shard) + "\"} " + std::to_string(r.sensors) + "\n";
  out += "# HELP telluride_shard_checkpoint_lag_ms Milliseconds since the last confirmed checkpoint of each active shard.\n";
  out += "# TYPE telluride_shard_checkpoint_lag_ms gauge\n";
  for (const auto& r : view.shards)
    out += "telluride_shard_checkpoint_lag_ms{shard=\"" + std::to_string(r.shard) + "\"} " +
           std::to_string(r.checkpoint_lag_ms) + "\n";
  out += "# HELP telluride_shard_members Live members sharing the shards, this node included.\n";
  out += "# TYPE telluride_shard_members gauge\n";
  out += "telluride_shard_members " + std::to_string(view.members.size()) + "\n";
  return out;
}

} // namespace telluride
