#include "telluride/daemon/live_view.hpp"

#include <causeway/telemetry.hpp>

namespace telluride {

namespace {

double per_second(std::uint64_t before, std::uint64_t now, double seconds) {
  return now >= before ? static_cast<double>(now - before) / seconds : 0.0;
}

nlohmann::json stage_json(const node_metric& n) {
  return {{"node_type", std::string{causeway::to_string(n.kind)}},
          {"name", n.name},
          {"partition", n.partition},
          {"call_count", n.call_count},
          {"msg_count", n.msg_count},
          {"sma_duration", n.sma_duration},
          {"mean_duration", n.mean_duration},
          {"max_duration", n.max_duration},
          {"workload", n.workload}};
}

nlohmann::json totals_json(const daemon_snapshot& s) {
  const auto& t = s.totals;
  nlohmann::json percent = nullptr;  // no reading yet: nothing to be a share of
  if (t.total_message_count > 0)
    percent = 100.0 * static_cast<double>(t.total_successful_count) / static_cast<double>(t.total_message_count);
  return {{"messages", t.total_message_count},
          {"successful", t.total_successful_count},
          {"failed", t.total_failed_count},
          {"successful_percent", percent},
          {"duplicates", s.duplicates},
          {"in_flight", s.in_flight()},
          {"sensors", s.sensors},
          {"alerts", s.alerts},
          {"published", s.published.published}};
}

} // namespace

live_rates rates_between(const daemon_snapshot& before, const daemon_snapshot& now) {
  if (now.taken_ms <= before.taken_ms)
    return {};
  const double seconds = static_cast<double>(now.taken_ms - before.taken_ms) / 1000.0;
  return {per_second(before.totals.total_message_count, now.totals.total_message_count, seconds),
          per_second(before.totals.total_successful_count, now.totals.total_successful_count, seconds),
          per_second(before.totals.total_failed_count, now.totals.total_failed_count, seconds)};
}

nlohmann::json live_snapshot_json(const daemon_snapshot& s, const live_rates& rates, const shard_board_view& shards,
                        const std::vector<std::string>& alerts, const std::vector<double>& cpu_percent) {
  auto reason = s.ready.problem();
  nlohmann::json status = {{"ready", !reason},
                 {"reason", reason ? nlohmann::json(*reason) : nlohmann::json(nullptr)},
                 {"consuming", s.ready.consuming},
                 {"broker_connected", s.ready.connected}};
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& n : s.stages)
    stages.push_back(stage_json(n));
  nlohmann::json shard_doc = shards_json(shards);
  shard_doc["members"] = shards.members;
  nlohmann::json alert_list = nlohmann::json::array();
  for (const auto& text : alerts) {
    auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (!parsed.is_discarded())
      alert_list.push_back(std::move(parsed));
  }
  return {{"node", shards.node},
          {"taken_ms", s.taken_ms},
          {"started_ms", s.started_ms},
          {"config_version", s.config_version},
          {"status", std::move(status)},
          {"totals", totals_json(s)},
          {"rates",
           {{"messages_per_second", rates.messages_per_second},
            {"successful_per_second", rates.successful_per_second},
            {"failed_per_second", rates.failed_per_second}}},
          {"stages", std::move(stages)},
          {"shards", std::move(shard_doc)},
          {"alerts", std::move(alert_list)},
          {"cpu_percent", cpu_percent}};
}

} // namespace telluride
