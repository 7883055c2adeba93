// recent_alerts.hpp — the latest alerts the daemon raised, for the live dashboard.
//
// The readings handler adds each alert it publishes (its JSON text, docs/wire-format.md,
// Alert); the live feed shows the last `capacity` of them. Bounded: older ones are forgotten.
// Thread-safe; the lock is taken only for a batch that raised alerts, and by the feed once a tick.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace telluride {

class recent_alerts {
public:
  /// Keeps at most `capacity` alerts (at least 1).
  explicit recent_alerts(std::size_t capacity = 50);

  /// Remembers one alert's JSON text, forgetting the oldest beyond the capacity.
  void add(std::string alert_json);

  /// The alerts remembered, oldest first.
  std::vector<std::string> latest() const;

  /// Alerts added since start (remembered or not).
  std::uint64_t total() const;

private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::deque<std::string> alerts_;
  std::uint64_t total_ = 0;
};

} // namespace telluride
