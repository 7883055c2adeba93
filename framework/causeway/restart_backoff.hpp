// restart_backoff.hpp — how long to wait before restarting something that failed.
//
// A failure after a run of at least `healthy_after` restarts at once: it was a one-off. A run
// that fails sooner than that is a failure "in a row", and each one in a row waits twice as
// long as the one before: `first`, 2 × first, ... up to `max`. So a part that crashes on every
// start is retried a few times a second at first and then every `max`, instead of in a tight
// loop, and one that ran fine for a while comes back at once. Pure: the caller passes `now`.
// Used by the pipeline supervisor and by the daemon's part supervisors.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace causeway {

class restart_backoff {
public:
  using clock = std::chrono::steady_clock;

  struct options {
    std::chrono::milliseconds first{100};
    std::chrono::milliseconds max{10'000};
    std::chrono::milliseconds healthy_after{10'000};
  };

  restart_backoff() = default;
  explicit restart_backoff(options opts) : options_(opts) {}

  /// A run started at `now`.
  void started(clock::time_point now) noexcept { started_ = now; }

  /// The run started last failed at `now`: the delay before the next start.
  std::chrono::milliseconds failed(clock::time_point now) noexcept {
    const bool quick = now - started_ < options_.healthy_after;
    failures_in_a_row_ = quick ? failures_in_a_row_ + 1 : 1;
    if (failures_in_a_row_ <= 1)
      return std::chrono::milliseconds{0};
    const auto doublings = std::min(failures_in_a_row_ - 2, 16u);
    return std::min(options_.first * (std::int64_t{1} << doublings), options_.max);
  }

  /// Failures that came soon after their start, one after another (0 before any).
  unsigned failures_in_a_row() const noexcept { return failures_in_a_row_; }

private:
  options options_;
  clock::time_point started_{};
  unsigned failures_in_a_row_ = 0;
};

} // namespace causeway
