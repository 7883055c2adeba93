// throughput.hpp — the daemon's message totals, as published on the throughput route.
//
// Totals count since the daemon started and live outside the restarted pipeline, so they
// never go backwards across reconfigurations. Updated once per batch (relaxed atomics);
// `sample` computes messages_per_second over the time since the previous sample.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>

namespace telluride {

struct throughput_sample {
  std::int64_t earliest_raw_time = 0;  ///< epoch ms of the first message; 0 before it
  std::int64_t last_raw_time = 0;      ///< epoch ms of the latest message
  std::uint64_t total_message_count = 0;
  std::uint64_t total_successful_count = 0;
  std::uint64_t total_failed_count = 0;
  double messages_per_second = 0;
};

nlohmann::json to_json(const throughput_sample& sample);

class throughput {
public:
  /// Counts `successful` and `failed` messages finished at `now_ms` (epoch milliseconds).
  void record(std::uint64_t successful, std::uint64_t failed, std::int64_t now_ms) noexcept;
  /// Duplicates recognised by message_id: acknowledged, not counted again.
  void record_duplicates(std::uint64_t n) noexcept { duplicates_.fetch_add(n, std::memory_order_relaxed); }
  /// Uncounts messages that were counted but will be delivered and counted again (a durable
  /// daemon restarting after a lost connection applies again what no checkpoint held). Never
  /// below zero.
  void take_back(std::uint64_t successful, std::uint64_t failed) noexcept;

  /// The totals, with the rate since the previous call to `sample` (not thread-safe against
  /// another `sample`; the daemon's publisher is the only caller).
  throughput_sample sample(std::int64_t now_ms);
  /// The totals without touching the rate bookkeeping (any thread).
  throughput_sample peek() const noexcept;
  std::uint64_t duplicates() const noexcept { return duplicates_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> successful_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::int64_t> earliest_{0};
  std::atomic<std::int64_t> last_{0};
  std::uint64_t previous_total_ = 0;
  std::int64_t previous_time_ = 0;
};

} // namespace telluride
