// shared_rate_limiter.hpp — one rate window shared by all producer stages of a pipeline.
// Thread-safe; survives topology restarts so a reconfiguration does not reset the window.
#pragma once

#include "causeway/detail/rate_window.hpp"

#include <mutex>

namespace causeway::detail {

class shared_rate_limiter {
public:
  explicit shared_rate_limiter(rate_limit_options limit) : window_(limit) {}

  std::size_t take(std::size_t n, rate_window::time_point now) {
    std::lock_guard guard{mutex_};
    return window_.take(n, now);
  }
  rate_window::time_point next_permit(rate_window::time_point now) const {
    std::lock_guard guard{mutex_};
    return window_.next_permit(now);
  }
  void update(rate_limit_options limit) {
    std::lock_guard guard{mutex_};
    window_.update(limit);
  }
  bool is_unlimited() const {
    std::lock_guard guard{mutex_};
    return window_.is_unlimited();
  }

private:
  mutable std::mutex mutex_;
  rate_window window_;
};

} // namespace causeway::detail
