// health_streak.hpp — whether a lost connection starts its reconnect backoff over.
//
// The rule: a connection proves healthy once it has been open, with every channel attached
// to it open too (restored after a reconnect), for `healthy_after` without a break. A channel
// failure breaks the streak (it begins again once every channel is open again); the loss of
// the connection ends it. When a connection that proved healthy is lost, its reconnects start
// over at the first attempt's delay; when one that did not is lost (a broker that accepts and
// drops at once, or closes a channel at once), they go on backing off from where they were.
// Pure: the caller passes `now`.
#pragma once

#include <chrono>

namespace causeway::amqp {

class health_streak {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit health_streak(std::chrono::milliseconds healthy_after) : healthy_after_(healthy_after) {}

  /// Whenever the connection or one of its channels opened or failed: `everything_open` says
  /// whether the connection and all its channels are open now. A streak in progress keeps its
  /// start while everything stays open.
  void update(bool everything_open, time_point now) noexcept {
    if (!everything_open)
      since_ = no_streak;
    else if (since_ == no_streak)
      since_ = now;
  }

  /// True when everything has been open for at least `healthy_after` at `now`.
  bool is_healthy(time_point now) const noexcept {
    return since_ != no_streak && now - since_ >= healthy_after_;
  }

  /// The connection was lost at `now`. Returns whether its reconnects start over (it had
  /// proved healthy), and ends the streak.
  bool on_loss(time_point now) noexcept {
    bool healthy = is_healthy(now);
    since_ = no_streak;
    return healthy;
  }

private:
  static constexpr time_point no_streak = time_point::max();

  std::chrono::milliseconds healthy_after_;
  time_point since_ = no_streak;  // since when everything is open
};

} // namespace causeway::amqp
