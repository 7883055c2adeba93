// workload_meter.hpp — how busy one stage instance was over an interval: busy time / wall time.
//
// A stage reports each call's duration when the call ends (telemetry.hpp), so a stage's busy
// time is the running sum of its calls' durations; nothing is measured per message. At the end
// of each interval the meter takes that sum and the interval's wall time and gives the share of
// the interval the stage was busy, in [0, 1]. A call longer than what is left of the interval it
// ends in is counted whole when it ends; the part beyond the interval's wall time is carried
// into the next intervals, so a 3 s call reads as 1.0 for the interval it ends in and the ones
// after it until its time is spent, never as 3.0. Pure: the caller measures the wall time.
#pragma once

#include <chrono>

namespace telluride {

class workload_meter {
public:
  using microseconds = std::chrono::duration<double, std::micro>;

  /// Ends an interval of `wall` time at whose end the stage's busy time since it started totals
  /// `busy_total`; returns the interval's workload in [0, 1]. An interval of no wall time
  /// only carries its busy time on and returns the last workload.
  double close(microseconds busy_total, microseconds wall) noexcept;

  /// The workload of the last interval closed; 0 before the first.
  double last() const noexcept { return last_; }

private:
  microseconds busy_at_last_close_{0};
  microseconds carried_{0};
  double last_ = 0;
};

} // namespace telluride
