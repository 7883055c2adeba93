#include "telluride/telemetry/throughput.hpp"

#include <algorithm>

namespace telluride {

nlohmann::json to_json(const throughput_sample& s) {
  return {
    {"earliest_raw_time", s.earliest_raw_time},
    {"last_raw_time", s.last_raw_time},
    {"total_message_count", s.total_message_count},
    {"total_successful_count", s.total_successful_count},
    {"total_failed_count", s.total_failed_count},
    {"messages_per_second", s.messages_per_second},
  };
}

void throughput::record(std::uint64_t successful, std::uint64_t failed, std::int64_t now_ms) noexcept {
  if (successful + failed == 0)
    return;
  successful_.fetch_add(successful, std::memory_order_relaxed);
  failed_.fetch_add(failed, std::memory_order_relaxed);
  std::int64_t unset = 0;
  earliest_.compare_exchange_strong(unset, now_ms, std::memory_order_relaxed);
  auto last = last_.load(std::memory_order_relaxed);
  while (last < now_ms && !last_.compare_exchange_weak(last, now_ms, std::memory_order_relaxed)) {}
}

throughput_sample throughput::peek() const noexcept {
  throughput_sample s;
  s.total_successful_count = successful_.load(std::memory_order_relaxed);
  s.total_failed_count = failed_.load(std::memory_order_relaxed);
  s.total_message_count = s.total_successful_count + s.total_failed_count;
  s.earliest_raw_time = earliest_.load(std::memory_order_relaxed);
  s.last_raw_time = last_.load(std::memory_order_relaxed);
  return s;
}

namespace {

void subtract_at_most(std::atomic<std::uint64_t>& from, std::uint64_t n) noexcept {
  auto now = from.load(std::memory_order_relaxed);
  while (!from.compare_exchange_weak(now, now - std::min(now, n), std::memory_order_relaxed)) {
  }
}

} // namespace

void throughput::take_back(std::uint64_t successful, std::uint64_t failed) noexcept {
  subtract_at_most(successful_, successful);
  subtract_at_most(failed_, failed);
}

throughput_sample throughput::sample(std::int64_t now_ms) {
  auto s = peek();
  if (previous_time_ != 0 && now_ms > previous_time_ && s.total_message_count >= previous_total_)
    s.messages_per_second = static_cast<double>(s.total_message_count - previous_total_) * 1000.0 /
                            static_cast<double>(now_ms - previous_time_);
  previous_total_ = s.total_message_count;
  previous_time_ = now_ms;
  return s;
}

} // namespace telluride
