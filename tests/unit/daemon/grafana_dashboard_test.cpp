// deploy/grafana/telluride.json queries only metrics the daemon's /metrics serves, with the
// labels it gives them: every name and label in its queries is checked against /metrics as
// rendered from a durable, sharded snapshot with a stage.
#include "telluride/daemon/shard_board.hpp"
#include "telluride/daemon/snapshot_views.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

// Its own namespace: the unity build compiles several test files as one.
namespace grafana_dashboard_test {

/// "name" → labels of the series /metrics shows under that name (histogram suffixes kept).
std::map<std::string, std::set<std::string>> series_of(const std::string& text) {
  std::map<std::string, std::set<std::string>> out;
  std::istringstream lines(text);
  const std::regex label{R"(([a-z_]+)=")"};
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    const auto end = line.find_first_of("{ ");
    auto& labels = out[line.substr(0, end)];
    if (line[end] == '{')
      for (std::sregex_iterator it{line.begin(), line.end(), label}, last; it != last; ++it)
        labels.insert((*it)[1]);
  }
  return out;
}

TEST_CASE("the Grafana dashboard queries only metrics and labels /metrics serves") {
  telluride::daemon_snapshot s;
  s.ready = {true, true, std::nullopt};
  s.checkpoints = telluride::checkpoint_figures{41, 2, 3, 38, 123456, 250, 35, 500, 77, 6};
  telluride::node_metric stage;
  stage.kind = causeway::stage_kind::processor;
  stage.name = "default";
  stage.durations.add(700.0);
  s.stages = {stage};
  telluride::shard_board_view shards{"node-a", 4, {}, {}};
  shards.shards.push_back(telluride::shard_row{0, "sensor_reading_queue.0", "node-a", "active", 10, 20});
  const auto served = series_of(telluride::prometheus_metrics(s) + telluride::shards_metrics(shards));

  std::ifstream file{std::string(CAUSEWAY_SOURCE_DIR) + "/deploy/grafana/telluride.json"};
  REQUIRE(file.good());
  const auto dashboard = nlohmann::json::parse(file);
  const std::regex metric{R"(telluride_[a-z_]+)"};
  const std::regex by{R"((?:by|on) \(([a-z_, ]+)\))"};
  const std::regex matcher{R"re(([a-z_]+)(?:=~|!=|=)")re"};
  std::set<std::string> queried;
  for (const auto& panel : dashboard["panels"])
    for (const auto& target : panel["targets"]) {
      const std::string expr = target["expr"];
      CAPTURE(expr);
      std::set<std::string> names;
      for (std::sregex_iterator it{expr.begin(), expr.end(), metric}, last; it != last; ++it)
        names.insert(it->str());
      REQUIRE_FALSE(names.empty());
      std::set<std::string> labels;
      for (std::sregex_iterator it{expr.begin(), expr.end(), matcher}, last; it != last; ++it)
        labels.insert((*it)[1]);
      for (std::sregex_iterator it{expr.begin(), expr.end(), by}, last; it != last; ++it) {
        std::istringstream list{(*it)[1].str()};
        for (std::string label; std::getline(list, label, ',');)
          labels.insert(label.substr(label.find_first_not_of(' ')));
      }
      for (const auto& name : names) {
        CAPTURE(name);
        const auto found = served.find(name);
        REQUIRE(found != served.end());
        queried.insert(name);
        for (const auto& label : labels)
          if (label != "instance" && label != "job" && label != "le")  // added by Prometheus / histograms
            CHECK_MESSAGE(found->second.contains(label), (name + " has no label " + label));
      }
    }
  CHECK(queried.size() >= 15);
  CHECK(dashboard["templating"]["list"][1]["query"] == "label_values(telluride_ready, instance)");
}

} // namespace grafana_dashboard_test
