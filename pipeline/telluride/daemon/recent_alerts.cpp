#include "telluride/daemon/recent_alerts.hpp"

#include <algorithm>
#include <utility>

namespace telluride {

recent_alerts::recent_alerts(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void recent_alerts::add(std::string alert_json) {
  std::lock_guard lock{mutex_};
  ++total_;
  if (alerts_.size() == capacity_)
    alerts_.pop_front();
  alerts_.push_back(std::move(alert_json));
}

std::vector<std::string> recent_alerts::latest() const {
  std::lock_guard lock{mutex_};
  return {alerts_.begin(), alerts_.end()};
}

std::uint64_t recent_alerts::total() const {
  std::lock_guard lock{mutex_};
  return total_;
}

} // namespace telluride
