// live_view.hpp — the document of GET /api/stream: one JSON snapshot of the daemon for the
// live dashboard (docs/wire-format.md, Live snapshot), built from the same daemon_snapshot that
// /metrics shows. Pure: the live feed (live_feed.hpp) gathers the inputs and calls it once per
// tick, whatever the number of viewers.
#pragma once

#include "telluride/daemon/daemon_snapshot.hpp"
#include "telluride/daemon/shard_board.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace telluride {

/// Readings finished per second between two snapshots.
struct live_rates {
  double messages_per_second = 0;
  double successful_per_second = 0;
  double failed_per_second = 0;
};

/// The rates from `before` to `now` (by their taken_ms); zero when no time passed between them
/// or a total went backwards.
live_rates rates_between(const daemon_snapshot& before, const daemon_snapshot& now);

/// {"node", "taken_ms", "started_ms", "config_version", "status": {"ready", "reason",
/// "consuming", "broker_connected"}, "totals": {...}, "rates": {...}, "stages": [...],
/// "shards": {"node", "shards": [...], "members": [...]}, "alerts": [...], "cpu_percent": [...]}.
/// `snapshot` must be taken with its stages; `alerts` are alert messages' JSON texts, oldest
/// first (one that does not parse is left out); `cpu_percent` is each host core's busy share
/// since the previous snapshot (host_cpu.hpp), empty when unknown.
nlohmann::json live_snapshot_json(const daemon_snapshot& snapshot, const live_rates& rates,
                                  const shard_board_view& shards, const std::vector<std::string>& alerts,
                                  const std::vector<double>& cpu_percent);

} // namespace telluride
