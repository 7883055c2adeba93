// snapshot_views.hpp — what the daemon shows of a daemon_snapshot, each a pure function:
//
//   make_stats_record  the record `telluride stats` reads from shared memory
//   prometheus_metrics GET /metrics (Prometheus text format 0.0.4)
//   topology_json      GET /api/topology, with the stages the readings supervisor reported
//
// Their names and fields are part of docs/http.md (Metrics) and the stats layout: change them only with it.
#pragma once

#include "telluride/daemon/daemon_snapshot.hpp"
#include "telluride/stats/shared_stats.hpp"

#include <causeway/pipeline.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace telluride {

/// The record `telluride stats` shows for this daemon; `messages_per_second` is the
/// reporter's latest throughput sample.
shared_stats_record make_stats_record(const daemon_snapshot& snapshot, double messages_per_second);

/// The Prometheus exposition of the daemon's counters (the stage series need a snapshot taken
/// with snapshot_detail::with_stages).
std::string prometheus_metrics(const daemon_snapshot& snapshot);

/// {"config_version", "consuming", "stages": [{"node_type", "name", "partition", "received",
/// "in_flight", "outstanding_demand"}...]}.
nlohmann::json topology_json(const daemon_snapshot& snapshot, const std::vector<causeway::stage_info>& stages);

} // namespace telluride
