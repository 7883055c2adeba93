// rate_window.hpp — "at most `allowed` messages per `interval`", as a fixed window.
//
// The window opens at the first take and resets `interval` later. Pure: `now` comes from the
// caller. allowed == 0 means unlimited.
#pragma once

#include "causeway/options.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace causeway::detail {

class rate_window {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit rate_window(rate_limit_options limit = {}) : limit_(limit) {}

  /// Takes up to `n` permits at `now`; returns how many were granted.
  std::size_t take(std::size_t n, time_point now);
  /// When the next permit can be granted (now when some are left).
  time_point next_permit(time_point now) const;
  /// New limits apply at once (as pipeline::set_rate_limit promises); the current window keeps
  /// the permits it already used, so a lowered limit may grant nothing until the next window.
  void update(rate_limit_options limit) noexcept { limit_ = limit; }
  const rate_limit_options& limit() const noexcept { return limit_; }
  bool is_unlimited() const noexcept { return limit_.allowed == 0; }

private:
  void roll(time_point now);

  rate_limit_options limit_;
  time_point window_start_{};
  std::uint64_t used_ = 0;
  bool started_ = false;
};

} // namespace causeway::detail
