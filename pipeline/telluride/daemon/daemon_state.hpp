// daemon_state.hpp — what the daemon's parts share: outputs, totals, the current config.
//
// The config actor is the only writer of the config; HTTP handlers, the reporter and the
// shared-memory stats read snapshots of it.
#pragma once

#include "telluride/daemon/outputs.hpp"
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
#include <utility>

namespace telluride {

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

  /// Ready to consume: the pipeline runs and its connection is up.
  bool is_ready() const;

private:
  mutable std::mutex mutex_;
  config config_;
  std::uint64_t version_ = 0;
};

} // namespace telluride
