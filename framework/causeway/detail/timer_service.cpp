#include "causeway/detail/timer_service.hpp"

#include "causeway/detail/due_queue.hpp"
#include "causeway/thread_name.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace causeway::detail {

// The thread holds its own reference: it may outlive the service object (see the header).
struct timer_service::state {
  mutable std::mutex mutex;
  std::condition_variable wake;
  due_queue timers;
  // When the thread sleeps: until when (max: no timer). A timer due before that wakes it.
  clock::time_point sleeping_until = clock::time_point::max();
  bool is_sleeping = false;
  bool is_stopping = false;
  std::uint64_t wakeups = 0;
  std::thread thread;

  void run() {
    name_this_thread("causeway-timers");
    std::unique_lock lock(mutex);
    while (!is_stopping) {
      auto due = timers.take_due(clock::now());
      if (!due.empty()) {
        lock.unlock();
        for (auto& fire : due)
          fire();
        due.clear();  // what a fire captured goes here, still without the lock
        lock.lock();
        continue;
      }
      sleeping_until = timers.earliest().value_or(clock::time_point::max());
      is_sleeping = true;
      if (timers.empty())
        wake.wait(lock);
      else
        wake.wait_until(lock, sleeping_until);
      is_sleeping = false;
      ++wakeups;
    }
  }
};

timer_service::timer_service() : state_(std::make_shared<state>()) {
  state_->thread = std::thread([s = state_] { s->run(); });
}

timer_service::~timer_service() {
  std::vector<std::function<void()>> dropped;  // destroyed after the lock is released
  {
    std::lock_guard lock(state_->mutex);
    state_->is_stopping = true;
    dropped = state_->timers.take_all();
  }
  state_->wake.notify_one();
  if (state_->thread.get_id() == std::this_thread::get_id())
    state_->thread.detach();  // destroyed inside a fire: the thread ends once it returns
  else
    state_->thread.join();
}

timer_service::ticket timer_service::schedule(clock::time_point due, std::function<void()> fire) {
  bool is_earliest = false;
  ticket t = 0;
  {
    std::lock_guard lock(state_->mutex);
    t = state_->timers.add(due, std::move(fire));
    is_earliest = state_->is_sleeping && due < state_->sleeping_until;
    if (is_earliest)
      state_->sleeping_until = due;  // one notify is enough until it wakes
  }
  if (is_earliest)
    state_->wake.notify_one();
  return t;
}

void timer_service::cancel(ticket t) {
  std::function<void()> dropped;  // destroyed after the lock is released
  std::lock_guard lock(state_->mutex);
  dropped = state_->timers.remove(t);
}

std::uint64_t timer_service::wakeups() const {
  std::lock_guard lock(state_->mutex);
  return state_->wakeups;
}

std::size_t timer_service::pending() const {
  std::lock_guard lock(state_->mutex);
  return state_->timers.size();
}

} // namespace causeway::detail
