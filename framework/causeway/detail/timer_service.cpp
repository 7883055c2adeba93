#include "causeway/detail/timer_service.hpp"

#include "causeway/thread_name.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace causeway::detail {

// The thread holds its own reference: it may outlive the service object (see the header).
struct timer_service::state {
  mutable std::mutex mutex;
  std::condition_variable wake;
  // By due time, then by ticket (scheduling order): the earliest first.
  std::map<std::pair<clock::time_point, ticket>, std::function<void()>> timers;
  std::map<ticket, clock::time_point> due_of;
  ticket last_ticket = 0;
  // When the thread sleeps: until when (max: no timer). A timer due before that wakes it.
  clock::time_point sleeping_until = clock::time_point::max();
  bool is_sleeping = false;
  bool is_stopping = false;
  std::uint64_t wakeups = 0;
  // While a host keeps the time: how to wake it, and whether and until when it sleeps.
  std::function<void()> host_wake;
  bool is_host_sleeping = false;
  clock::time_point host_sleeping_until = clock::time_point::max();
  std::uint64_t host_wakeups = 0;
  std::thread thread;

  /// Moves the timers due at `now` out (fired by the caller, without the lock).
  std::vector<std::function<void()>> take_due(clock::time_point now) {
    std::vector<std::function<void()>> due;
    while (!timers.empty() && timers.begin()->first.first <= now) {
      auto first = timers.begin();
      due_of.erase(first->first.second);
      due.push_back(std::move(first->second));
      timers.erase(first);
    }
    return due;
  }

  void run() {
    name_this_thread("causeway-timers");
    std::unique_lock lock(mutex);
    while (!is_stopping) {
      if (host_wake) {
        wake.wait(lock);  // until the host lets go
        continue;
      }
      auto due = take_due(clock::now());
      if (!due.empty()) {
        lock.unlock();
        for (auto& fire : due)
          fire();
        due.clear();  // what a fire captured goes here, still without the lock
        lock.lock();
        continue;
      }
      sleeping_until = timers.empty() ? clock::time_point::max() : timers.begin()->first.first;
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
  decltype(state::timers) dropped;  // destroyed after the lock is released
  {
    std::lock_guard lock(state_->mutex);
    state_->is_stopping = true;
    dropped.swap(state_->timers);
    state_->due_of.clear();
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
    t = ++state_->last_ticket;
    state_->timers.emplace(std::make_pair(due, t), std::move(fire));
    state_->due_of.emplace(t, due);
    if (state_->host_wake) {
      if (state_->is_host_sleeping && due < state_->host_sleeping_until) {
        state_->host_sleeping_until = due;  // one wake-up is enough until it sleeps again
        ++state_->host_wakeups;
        state_->host_wake();  // short (uv_async_send): under the lock, so the host cannot let go meanwhile
      }
      return t;
    }
    is_earliest = state_->is_sleeping && due < state_->sleeping_until;
    if (is_earliest)
      state_->sleeping_until = due;  // one notify is enough until it wakes
  }
  if (is_earliest)
    state_->wake.notify_one();
  return t;
}

bool timer_service::host(std::function<void()> wake) {
  std::lock_guard lock(state_->mutex);
  if (state_->host_wake || !wake)
    return false;
  state_->host_wake = std::move(wake);
  state_->is_host_sleeping = false;
  state_->host_sleeping_until = clock::time_point::max();
  return true;
}

std::optional<timer_service::clock::time_point> timer_service::run_due() {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lock(state_->mutex);
    due = state_->take_due(clock::now());
  }
  for (auto& fire : due)
    fire();
  due.clear();  // what a fire captured goes here, still without the lock
  std::lock_guard lock(state_->mutex);
  if (state_->timers.empty())
    return std::nullopt;
  return state_->timers.begin()->first.first;
}

void timer_service::host_sleeps(clock::time_point until) {
  std::lock_guard lock(state_->mutex);
  state_->is_host_sleeping = true;
  state_->host_sleeping_until = until;
}

void timer_service::host_woke() {
  std::lock_guard lock(state_->mutex);
  state_->is_host_sleeping = false;
}

void timer_service::unhost() {
  std::function<void()> dropped;  // destroyed after the lock is released
  {
    std::lock_guard lock(state_->mutex);
    dropped = std::move(state_->host_wake);
    state_->host_wake = nullptr;
    state_->is_host_sleeping = false;
  }
  state_->wake.notify_one();  // the thread keeps the time again
}

void timer_service::cancel(ticket t) {
  std::function<void()> dropped;  // destroyed after the lock is released
  std::lock_guard lock(state_->mutex);
  auto it = state_->due_of.find(t);
  if (it == state_->due_of.end())
    return;
  auto timer = state_->timers.find(std::make_pair(it->second, t));
  dropped = std::move(timer->second);
  state_->timers.erase(timer);
  state_->due_of.erase(it);
}

std::uint64_t timer_service::wakeups() const {
  std::lock_guard lock(state_->mutex);
  return state_->wakeups;
}

std::uint64_t timer_service::host_wakeups() const {
  std::lock_guard lock(state_->mutex);
  return state_->host_wakeups;
}

std::size_t timer_service::pending() const {
  std::lock_guard lock(state_->mutex);
  return state_->timers.size();
}

} // namespace causeway::detail
