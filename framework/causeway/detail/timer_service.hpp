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
// A host, a thread that runs a loop and wakes anyway (an AMQP connection's: amqp::connection::
// host_timers), may keep the time instead: while it does, the service's thread sleeps, and the
// host fires what is due at each turn of its loop and wakes for the earliest timer only when
// nothing else wakes it first. A batch timeout that is cancelled before it is due then costs no
// wake-up at all, where the service's thread would wake for it to find nothing. When the host
// lets go (its loop ends), the service's thread keeps the time again.
//
// `fire` runs on the service's (or the host's) thread, without its lock: it should only send a message (e.g.
// `caf::anon_send` through a weak handle). The service may be destroyed by the last owner
// anywhere, even inside a `fire` (an actor whose last reference a fire drops): pending timers
// are dropped, and the thread is joined, or let go when that is the thread itself. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

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

  // --- a host (see above); these on the host's thread ---

  /// The host keeps the time from now on (the service's thread sleeps). `wake` (any thread,
  /// short, no lock of the caller's) wakes the host: called when a timer is scheduled before the
  /// host means to wake. False, changing nothing, when another host has it.
  bool host(std::function<void()> wake);
  /// Fires what is due; the time the earliest pending timer is due, if any.
  std::optional<clock::time_point> run_due();
  /// The host sleeps until `until` at the latest: a timer due sooner wakes it.
  void host_sleeps(clock::time_point until);
  /// The host woke (a timer scheduled now needs no wake-up: it looks before it sleeps again).
  void host_woke();
  /// The host stops keeping the time; the service's thread keeps it again.
  void unhost();

  /// Times the service's own thread woke (for tests: a timer due after the earliest costs none).
  std::uint64_t wakeups() const;
  /// Times `schedule` woke the host.
  std::uint64_t host_wakeups() const;
  /// Timers waiting.
  std::size_t pending() const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace causeway::detail
