// node_metrics.hpp — per stage instance timing, as published on the node-metrics route.
//
// A telemetry sink: every stop/exception event of a stage instance (processor call, batch,
// batcher intake, producer dispatch) updates that instance's counters. The daemon takes the
// instances that did work since its last publish every metrics_interval_ms (docs/wire-format.md,
// Node metric). Counters are cumulative since the daemon started: an instance keeps its
// identity (kind, name, index) across pipeline restarts.
//
// For the live dashboard and /metrics it also keeps, per instance, a histogram of call
// durations and the workload (busy time / wall time) of the latest interval: whoever ticks
// (the daemon's live feed, once a second) calls `close_interval`. None of it costs a clock read:
// both come from the durations the stages already report.
#pragma once

#include "causeway/telemetry.hpp"
#include "telluride/telemetry/duration_histogram.hpp"
#include "telluride/telemetry/workload_meter.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
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
  // Not on the node-metrics route (its message is fixed by docs/wire-format.md):
  double busy_us = 0;            ///< sum of every call's duration, microseconds
  double workload = 0;           ///< busy / wall time over the latest closed interval, 0..1
  duration_histogram durations;  ///< every call's duration
};

/// The node-metric message of docs/wire-format.md (without busy time, workload, histogram).
nlohmann::json to_json(const node_metric& metric);

/// Folds durations into one node's metric. Pure.
class node_accumulator {
public:
  void add(std::size_t messages, double duration_us, std::int64_t time_ms);
  const node_metric& metric() const noexcept { return metric_; }
  node_metric& metric() noexcept { return metric_; }

private:
  node_metric metric_;
  std::array<double, sma_window> recent_{};
  double recent_sum_ = 0;
  std::size_t recent_next_ = 0;
};

class node_metrics : public causeway::telemetry_sink {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// The first interval starts at `start`.
  explicit node_metrics(time_point start = std::chrono::steady_clock::now()) : interval_start_(start) {}

  void on_event(const causeway::telemetry_event& event) override;

  /// Ends the current interval at `now` (a later time than the previous call's): every
  /// instance's workload becomes its busy share of the interval (workload_meter.hpp); an
  /// instance first seen during it counts from the interval's start. Any thread.
  void close_interval(time_point now);

  /// The instances that did work since the last call, and forgets that they did.
  std::vector<node_metric> take_changed();
  /// Every instance seen so far.
  std::vector<node_metric> snapshot() const;

private:
  using key = std::tuple<causeway::stage_kind, std::string, std::size_t>;
  struct entry {
    node_accumulator acc;
    workload_meter workload;
    bool changed = false;
  };
  mutable std::mutex mutex_;
  time_point interval_start_;
  std::map<key, entry, std::less<>> nodes_;
};

} // namespace telluride
