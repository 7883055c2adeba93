// read_pacer.hpp — how long a busy connection waits before it reads its socket again.
//
// A read that brought frames stops polling the socket and reads again after an interval
// (docs/architecture.md, Read pacing): one wake-up per interval instead of one per TCP
// segment. The interval follows the rate, so that a read is worth its wake-up: a read that
// brought fewer than half of `wanted_frames` doubles it (up to `longest`), one that brought
// more than twice as many halves it (down to `shortest`). At a high rate it stays at
// `shortest`; at a low, steady rate (a few deliveries per millisecond) it grows, and the
// thread wakes, and hands deliveries on, once per `longest` instead of every millisecond.
// A read that brings nothing ends the busy spell (the caller polls the socket again); the
// interval is kept for the next one. Pure: no clock, no sockets.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

namespace causeway::amqp {

class read_pacer {
public:
  using duration = std::chrono::milliseconds;

  /// Frames a read should bring: ~384 small deliveries (method, header and body frame each),
  /// so a steady rate settles where a read brings 192-384. Every wake-up of the consumer and
  /// of the stages a hand-off crosses costs tens of microseconds on a shared VM, whatever it
  /// carries: paced at 5,000 deliveries/s, reading ~40 per wake-up (192 frames wanted, 8 ms at
  /// most) cost 12.5-13.6 CPU-s per million deliveries, ~120 (576 wanted, 24 ms at most)
  /// 10.8-11.1, and on a later VM ~120 cost 4.6-5.2 against 4.0-4.2 for ~240 (this, 48 ms at
  /// most) (docs/architecture.md, Read pacing).
  static constexpr std::size_t default_wanted_frames = 1152;

  /// `longest` below `shortest` counts as `shortest` (a fixed interval).
  read_pacer(duration shortest, duration longest, std::size_t wanted_frames = default_wanted_frames) noexcept
    : shortest_(shortest),
      longest_(std::max(shortest, longest)),
      wanted_(std::max<std::size_t>(wanted_frames, 1)),
      interval_(shortest) {}

  /// After a read that brought `frames`: how long until the next read, or nothing when the
  /// caller should poll the socket again (no frames, or pacing is off: `shortest` is 0).
  /// `behind`: the read left much unread in the socket (one read takes at most the reader's
  /// buffer), so the reads are too far apart for the rate, however many frames this one
  /// brought: the interval halves.
  /// `hurried`: a prefetch window was full a moment ago (the rate is what the window lets
  /// through, not what the sender makes): a read aims at a third of `wanted_frames`, so the
  /// deliveries waiting in the socket hold less of the window.
  /// Frames of a read that `carry` held count too: that read and this one are one.
  std::optional<duration> after_read(std::size_t frames, bool behind = false, bool hurried = false) noexcept {
    frames += std::exchange(carried_, 0);
    if (frames == 0 || shortest_.count() == 0)
      return std::nullopt;
    const std::size_t wanted = hurried ? std::max<std::size_t>(wanted_ / 3, 1) : wanted_;
    if (behind || frames > wanted * 2)
      interval_ = std::max(interval_ / 2, shortest_);
    else if (frames * 2 < wanted)
      interval_ = std::min(interval_ * 2, longest_);
    return interval_;
  }

  /// A read left much in the socket and the caller reads the rest at once: the next
  /// `after_read` counts these `frames` with the rest's. Much of what a read leaves often
  /// arrived while it read (the broker sends in bursts), so a left-over alone says little about
  /// the rate; one left by the rest too does (`behind`).
  void carry(std::size_t frames) noexcept { carried_ += frames; }
  /// Whether a read's frames wait for its rest (carry).
  bool carries() const noexcept { return carried_ > 0; }

  /// Back to `shortest`: the next reads come quickly again (e.g. the sender was held back, not
  /// slow, and is about to send a burst). Carried frames are dropped (as on a lost connection).
  void restart() noexcept {
    interval_ = shortest_;
    carried_ = 0;
  }

  duration interval() const noexcept { return interval_; }

  /// Whether reads are paced at all (`shortest` above 0); unpaced, every readable event reads.
  bool paces() const noexcept { return shortest_.count() > 0; }

private:
  duration shortest_;
  duration longest_;
  std::size_t wanted_;
  duration interval_;
  std::size_t carried_ = 0;
};

} // namespace causeway::amqp
