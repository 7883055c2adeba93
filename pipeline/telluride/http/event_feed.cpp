#include "telluride/http/event_feed.hpp"

#include <utility>

namespace telluride::http {

void event_feed::publish(std::string bytes) {
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  std::lock_guard lock{mutex_};
  latest_ = frame{latest_.serial + 1, std::move(shared)};
  for (const auto& [id, wake] : watchers_)
    wake();
}

event_feed::frame event_feed::latest() const {
  std::lock_guard lock{mutex_};
  return latest_;
}

std::uint64_t event_feed::watch(std::function<void()> wake) {
  std::lock_guard lock{mutex_};
  auto id = next_watcher_++;
  watchers_.emplace(id, std::move(wake));
  return id;
}

void event_feed::unwatch(std::uint64_t id) {
  std::lock_guard lock{mutex_};
  watchers_.erase(id);
}

std::size_t event_feed::watchers() const {
  std::lock_guard lock{mutex_};
  return watchers_.size();
}

void event_feed::add_viewer() {
  std::lock_guard lock{mutex_};
  if (viewers_++ == 0 && on_demand_)
    on_demand_();
}

void event_feed::remove_viewer() {
  std::shared_ptr<const std::string> stale;  // freed after the lock is released
  std::lock_guard lock{mutex_};
  if (viewers_ == 0)
    return;
  if (--viewers_ == 0)
    stale = std::move(latest_.bytes);
}

std::size_t event_feed::viewers() const {
  std::lock_guard lock{mutex_};
  return viewers_;
}

void event_feed::on_demand(std::function<void()> wanted) {
  std::function<void()> old;  // destroyed after the lock is released
  std::lock_guard lock{mutex_};
  old = std::exchange(on_demand_, std::move(wanted));
}

} // namespace telluride::http
