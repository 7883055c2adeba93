// sensor_quota.hpp — how many sensors may be tracked, shared by every table that tracks them.
//
// Each tracked sensor costs memory for as long as the daemon runs (sensors are never
// forgotten), so their number is bounded by `max_sensors`. Tables take a place when they
// first see a sensor and never give it back: the first `max` distinct sensors are tracked,
// later new ones are refused, known ones go on being counted. Lock-free: one atomic counter,
// touched only when a table meets a sensor it does not know. Thread-safe.
//
// Without a configured bound (max_sensors 0) it is sized from memory: a quarter of physical
// memory at `budget_bytes_per_sensor` each. A tracked sensor measures ~200 bytes in the sensor
// table (bench/run.sh sensors) and ~75 more while it holds an alert counter; the budget
// rounds that up, leaving room for string ids and the allocator's slack.
#pragma once

#include <atomic>
#include <cstdint>

namespace telluride {

/// Bytes a tracked sensor is budgeted when the bound is sized from memory.
inline constexpr std::uint64_t budget_bytes_per_sensor = 256;

/// The bound sized from memory: a quarter of `physical_memory_bytes` at
/// budget_bytes_per_sensor each.
constexpr std::uint64_t max_sensors_for_memory(std::uint64_t physical_memory_bytes) noexcept {
  return physical_memory_bytes / 4 / budget_bytes_per_sensor;
}

class sensor_quota {
public:
  /// At most `max` sensors; 0 admits none.
  explicit sensor_quota(std::uint64_t max) noexcept : max_(max) {}

  /// Takes a place for a new sensor: true while fewer than max() were taken.
  bool try_take() noexcept {
    std::uint64_t taken = taken_.load(std::memory_order_relaxed);
    while (taken < max_)
      if (taken_.compare_exchange_weak(taken, taken + 1, std::memory_order_relaxed))
        return true;
    return false;
  }

  /// Takes places for `n` sensors restored from a checkpoint. They are tracked whatever the
  /// bound (a restore forgets no sensor), so taken() may exceed max() after it.
  void take_restored(std::uint64_t n) noexcept { taken_.fetch_add(n, std::memory_order_relaxed); }

  /// Places taken so far: the sensors tracked.
  std::uint64_t taken() const noexcept { return taken_.load(std::memory_order_relaxed); }
  std::uint64_t max() const noexcept { return max_; }

private:
  const std::uint64_t max_;
  std::atomic<std::uint64_t> taken_{0};
};

} // namespace telluride
