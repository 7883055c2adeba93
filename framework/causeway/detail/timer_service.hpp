// timer_service.hpp — cancellable timers that cost a wake-up only when one is due.
//
// CAF 0.17's clock wakes its thread for every delayed_send and cannot cancel one. A batcher
// arms a timer for its oldest open batch; at any steady rate that batch leaves by size first,
// and each batch still cost three wake-ups on the way (the clock thread for the arming, the
// clock thread again for the firing, and a worker for the timer's message, which found nothing
// due). Paced at 5,000 readings/s those were ~30 % of the daemon's wake-ups.
//
// Here a timer is cancelled when what it was for is gone; the thread is woken by `schedule`
// only when the new timer is due before every pending one (otherwise it is asleep until an
// earlier one anyway), and a cancelled timer never runs. A thread that wakes for a timer that
// was cancelled meanwhile finds nothing due and sleeps until the next.
//
// `fire` runs on the service's thread, without its lock: it should only send a message (e.g.
// `caf::anon_send` through a weak handle). The service may be destroyed by the last owner
// anywhere, even inside a `fire` (an actor whose last reference a fire drops): pending timers
// are dropped, and the thread is joined, or let go when that is the thread itself. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace causeway::detail {

class timer_service {
public:
  using clock = std::chrono::steady_clock;
  /// Names one scheduled timer; 0 names none (cancelling it does nothing).
  using ticket = std::uint64_t;

  timer_service();
  ~timer_service();
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  /// Runs `fire` once at `due` (at once when it is past) unless cancelled before.
  ticket schedule(clock::time_point due, std::function<void()> fire);
  /// The timer does not run, unless it is running already. Unknown tickets are ignored.
  void cancel(ticket t);

  /// Times the thread woke (for tests: a timer due after the earliest costs none).
  std::uint64_t wakeups() const;
  /// Timers waiting.
  std::size_t pending() const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace causeway::detail
