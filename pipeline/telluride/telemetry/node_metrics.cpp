#include "telluride/telemetry/node_metrics.hpp"

#include <algorithm>
#include <chrono>

namespace telluride {

nlohmann::json to_json(const node_metric& m) {
  return {
    {"node_type", std::string{causeway::to_string(m.kind)}},
    {"name", m.name},
    {"partition", m.partition},
    {"call_count", m.call_count},
    {"msg_count", m.msg_count},
    {"last_duration", m.last_duration},
    {"min_duration", m.min_duration},
    {"max_duration", m.max_duration},
    {"mean_duration", m.mean_duration},
    {"sma_duration", m.sma_duration},
    {"first_time", m.first_time},
    {"last_time", m.last_time},
  };
}

void node_accumulator::add(std::size_t messages, double duration_us, std::int64_t time_ms) {
  auto& m = metric_;
  if (m.call_count == 0) {
    m.first_time = time_ms;
    m.min_duration = duration_us;
    m.max_duration = duration_us;
  }
  ++m.call_count;
  m.msg_count += messages;
  m.last_duration = duration_us;
  m.min_duration = std::min(m.min_duration, duration_us);
  m.max_duration = std::max(m.max_duration, duration_us);
  m.busy_us += duration_us;
  m.durations.add(duration_us);
  m.mean_duration = m.busy_us / static_cast<double>(m.call_count);
  // Ring of the last sma_window durations; the running sum is refreshed from the ring when it
  // wraps so rounding errors cannot pile up.
  recent_sum_ += duration_us - recent_[recent_next_];
  recent_[recent_next_] = duration_us;
  recent_next_ = (recent_next_ + 1) % sma_window;
  if (recent_next_ == 0) {
    recent_sum_ = 0;
    for (auto d : recent_)
      recent_sum_ += d;
  }
  auto n = std::min<std::uint64_t>(m.call_count, sma_window);
  m.sma_duration = recent_sum_ / static_cast<double>(n);
  m.last_time = time_ms;
}

void node_metrics::on_event(const causeway::telemetry_event& event) {
  if (event.phase == causeway::telemetry_phase::start)
    return;
  auto us = std::chrono::duration<double, std::micro>(event.duration).count();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(event.time.time_since_epoch()).count();
  std::lock_guard guard{mutex_};
  auto it = nodes_.find(std::make_tuple(event.kind, event.name, event.index));
  if (it == nodes_.end()) {
    it = nodes_.emplace(key{event.kind, std::string{event.name}, event.index}, entry{}).first;
    auto& m = it->second.acc.metric();
    m.kind = event.kind;
    m.name = std::string{event.name};
    m.partition = event.index;
  }
  it->second.acc.add(event.messages, us, ms);
  it->second.changed = true;
}

void node_metrics::close_interval(time_point now) {
  std::lock_guard guard{mutex_};
  auto wall = std::chrono::duration_cast<workload_meter::microseconds>(now - interval_start_);
  for (auto& [k, e] : nodes_)
    e.acc.metric().workload = e.workload.close(workload_meter::microseconds{e.acc.metric().busy_us}, wall);
  if (wall > workload_meter::microseconds{0})
    interval_start_ = now;
}

std::vector<node_metric> node_metrics::take_changed() {
  std::vector<node_metric> out;
  std::lock_guard guard{mutex_};
  for (auto& [k, e] : nodes_)
    if (std::exchange(e.changed, false))
      out.push_back(e.acc.metric());
  return out;
}

std::vector<node_metric> node_metrics::snapshot() const {
  std::vector<node_metric> out;
  std::lock_guard guard{mutex_};
  for (const auto& [k, e] : nodes_)
    out.push_back(e.acc.metric());
  return out;
}

} // namespace telluride
