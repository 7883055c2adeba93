#include "causeway/detail/timer_service.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace timer_service_test {

using causeway::detail::timer_service;
using namespace std::chrono_literals;

namespace {

/// What the timers did, in the order they fired.
struct fired {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<int> order;

  std::function<void()> note(int id) {
    return [this, id] {
      std::lock_guard lock(mutex);
      order.push_back(id);
      changed.notify_all();
    };
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds within = 5s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, within, [&] { return order.size() >= n; });
  }
  std::vector<int> seen() {
    std::lock_guard lock(mutex);
    return order;
  }
};

} // namespace

TEST_CASE("timers fire once each, earliest first, whatever order they were scheduled in") {
  fired f;
  timer_service timers;
  const auto now = timer_service::clock::now();
  timers.schedule(now + 60ms, f.note(3));
  timers.schedule(now + 20ms, f.note(1));
  timers.schedule(now + 40ms, f.note(2));
  timers.schedule(now - 1s, f.note(0));  // past: at once
  REQUIRE(f.wait_for(4));
  std::this_thread::sleep_for(30ms);
  CHECK(f.seen() == std::vector<int>{0, 1, 2, 3});
  CHECK(timers.pending() == 0);
}

TEST_CASE("a cancelled timer never fires, and cancelling twice or an unknown ticket changes nothing") {
  fired f;
  timer_service timers;
  const auto now = timer_service::clock::now();
  auto first = timers.schedule(now + 20ms, f.note(1));
  timers.schedule(now + 40ms, f.note(2));
  timers.cancel(first);
  timers.cancel(first);
  timers.cancel(0);
  timers.cancel(12345);
  CHECK(timers.pending() == 1);
  REQUIRE(f.wait_for(1));
  std::this_thread::sleep_for(40ms);
  CHECK(f.seen() == std::vector<int>{2});
}

TEST_CASE("a timer due after the earliest pending one does not wake the thread, an earlier one does") {
  fired f;
  timer_service timers;
  const auto now = timer_service::clock::now();
  timers.schedule(now + 10s, f.note(9));
  // Wait until the thread sleeps until the 10 s timer (its first wait, after the first schedule
  // woke it from its wait for any timer).
  for (int i = 0; i < 200 && timers.wakeups() == 0; ++i)
    std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  const auto before = timers.wakeups();
  for (int i = 1; i <= 50; ++i)
    timers.schedule(now + 10s + std::chrono::milliseconds{i}, f.note(i));
  std::this_thread::sleep_for(50ms);
  CHECK(timers.wakeups() == before);  // 50 timers, no wake-up
  timers.schedule(timer_service::clock::now() + 5ms, f.note(0));
  REQUIRE(f.wait_for(1));
  CHECK(f.seen() == std::vector<int>{0});
  CHECK(timers.wakeups() > before);
  CHECK(timers.pending() == 51);
}

TEST_CASE("moving a timer later, as a batcher does when its oldest batch leaves by size, fires only the last one") {
  fired f;
  timer_service timers;
  auto due = timer_service::clock::now() + 30ms;
  auto ticket = timers.schedule(due, f.note(0));
  for (int i = 1; i <= 20; ++i) {
    timers.cancel(ticket);
    due += 2ms;
    ticket = timers.schedule(due, f.note(i));
  }
  REQUIRE(f.wait_for(1));
  std::this_thread::sleep_for(40ms);
  CHECK(f.seen() == std::vector<int>{20});
}

TEST_CASE("destroying the service drops its pending timers, even from inside a timer that owns it") {
  fired f;
  {
    timer_service timers;
    timers.schedule(timer_service::clock::now() + 50ms, f.note(1));
  }
  std::this_thread::sleep_for(80ms);
  CHECK(f.seen().empty());

  // The last owner of the service is released by one of its own timers (an actor whose last
  // reference a timer's message dropped): the thread lets itself go instead of joining itself.
  auto owned = std::make_shared<std::shared_ptr<timer_service>>(std::make_shared<timer_service>());
  std::atomic<bool> released{false}, let_go{false};
  auto& service = **owned;
  service.schedule(timer_service::clock::now() + 1s, f.note(2));
  service.schedule(timer_service::clock::now() + 20ms, [owned, &released, &let_go]() mutable {
    while (!let_go)  // until this thread no longer uses the service (the calls above returned)
      std::this_thread::yield();
    owned->reset();
    released = true;
  });
  owned.reset();  // the timer holds the only reference now
  let_go = true;
  for (int i = 0; i < 500 && !released; ++i)
    std::this_thread::sleep_for(1ms);
  CHECK(released);
  std::this_thread::sleep_for(20ms);
  CHECK(f.seen().empty());
}

} // namespace timer_service_test
