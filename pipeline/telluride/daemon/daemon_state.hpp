// daemon_state.hpp — what the daemon's parts share: outputs, totals, the current config.
//
// The config actor is the only writer of the config; HTTP handlers, the reporter and the
// shared-memory stats read snapshots of it.
#pragma once

#include "telluride/daemon/outputs.hpp"
#include "telluride/daemon/part_health.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/daemon/source_switch.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/telemetry/node_metrics.hpp"
#include "telluride/telemetry/throughput.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace telluride {

/// Counted outcomes of the control path, for /metrics.
struct control_counters {
  std::atomic<std::uint64_t> config_applied{0};
  std::atomic<std::uint64_t> config_rejected{0};
  /// Exceptions caught in a handler of the daemon's own actors (each settled its message).
  std::atomic<std::uint64_t> handler_errors{0};
};

struct daemon_state {
  std::shared_ptr<outputs> out;
  std::shared_ptr<sensor_tracker> tracker;
  std::shared_ptr<throughput> totals;
  std::shared_ptr<node_metrics> nodes;
  std::shared_ptr<source_switch> readings;
  std::shared_ptr<causeway::amqp::rabbitmq_source> control;
  caf::actor supervisor;          ///< the readings pipeline
  std::int64_t started_ms = 0;
  /// True while the readings pipeline runs (false during a drain and restart).
  std::atomic<bool> consuming{false};
  /// The config handler and the reporter: down while their supervisor restarts them.
  part_health parts;
  control_counters counters;

  /// The current config and its version (0 until the first applied reconfiguration).
  std::pair<config, std::uint64_t> current() const {
    std::lock_guard guard{mutex_};
    return {config_, version_};
  }
  void set_current(config cfg, std::uint64_t version) {
    std::lock_guard guard{mutex_};
    config_ = std::move(cfg);
    version_ = version;
  }

  /// Why the daemon does not handle input now (readings or control), or nothing when it
  /// does: the pipeline restarts, the broker connection is down, or a part is down.
  std::optional<std::string> not_ready_reason() const;
  bool is_ready() const { return !not_ready_reason(); }

private:
  mutable std::mutex mutex_;
  config config_;
  std::uint64_t version_ = 0;
};

} // namespace telluride
