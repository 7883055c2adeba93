// node_metrics.hpp — per stage instance timing, as published on the node-metrics route.
//
// A telemetry sink: every stop/exception event of a stage instance (processor call, batch,
// batcher intake, producer dispatch) updates that instance's counters. The daemon takes the
// instances that did work since its last publish every metrics_interval_ms (docs/wire-format.md,
// Node metric). Counters are cumulative since the daemon started: an instance keeps its
// identity (kind, name, index) across pipeline restarts.
#pragma once

#include "causeway/telemetry.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace telluride {

/// Calls averaged by sma_duration.
inline constexpr std::size_t sma_window = 60;

struct node_metric {
  causeway::stage_kind kind = causeway::stage_kind::processor;
  std::string name;
  std::size_t partition = 0;
  std::uint64_t call_count = 0;
  std::uint64_t msg_count = 0;
  double last_duration = 0;  ///< microseconds
  double min_duration = 0;
  double max_duration = 0;
  double mean_duration = 0;
  double sma_duration = 0;   ///< mean of the last sma_window calls
  std::int64_t first_time = 0;  ///< epoch milliseconds
  std::int64_t last_time = 0;
};

nlohmann::json to_json(const node_metric& metric);

/// Folds durations into one node's metric. Pure.
class node_accumulator {
public:
  void add(std::size_t messages, double duration_us, std::int64_t time_ms);
  const node_metric& metric() const noexcept { return metric_; }
  node_metric& metric() noexcept { return metric_; }

private:
  node_metric metric_;
  double total_us_ = 0;
  std::array<double, sma_window> recent_{};
  double recent_sum_ = 0;
  std::size_t recent_next_ = 0;
};

class node_metrics : public causeway::telemetry_sink {
public:
  void on_event(const causeway::telemetry_event& event) override;

  /// The instances that did work since the last call, and forgets that they did.
  std::vector<node_metric> take_changed();
  /// Every instance seen so far.
  std::vector<node_metric> snapshot() const;

private:
  using key = std::tuple<causeway::stage_kind, std::string, std::size_t>;
  struct entry {
    node_accumulator acc;
    bool changed = false;
  };
  mutable std::mutex mutex_;
  std::map<key, entry, std::less<>> nodes_;
};

} // namespace telluride
