#include "telluride/http/stream_fanout.hpp"

#include "telluride/http/connection.hpp"

#include <algorithm>

namespace telluride::http {

stream_fanout::stream_fanout(uv_loop_t* loop) {
  uv_async_init(loop, &async_, on_async);
  async_.data = this;
  wake_->async = &async_;
}

void stream_fanout::add(connection& viewer, const std::shared_ptr<event_feed>& feed) {
  viewers_.push_back(&viewer);
  count_.store(viewers_.size(), std::memory_order_relaxed);
  bool is_watched = std::any_of(watched_.begin(), watched_.end(), [&](const auto& w) { return w.first == feed; });
  if (!is_closed_ && !is_watched) {
    auto id = feed->watch([target = wake_] {
      std::lock_guard lock{target->mutex};
      if (target->async)
        uv_async_send(target->async);
    });
    watched_.emplace_back(feed, id);
  }
  // Watched first: the frame a first viewer's demand brings wakes the loop.
  feed->add_viewer();
}

void stream_fanout::remove(connection& viewer, event_feed& feed) {
  if (std::erase(viewers_, &viewer) == 0)
    return;
  count_.store(viewers_.size(), std::memory_order_relaxed);
  feed.remove_viewer();
}

void stream_fanout::close() {
  if (is_closed_)
    return;
  is_closed_ = true;
  {
    std::lock_guard lock{wake_->mutex};
    wake_->async = nullptr;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  for (auto& [feed, id] : watched_)
    feed->unwatch(id);
  watched_.clear();
}

void stream_fanout::on_async(uv_async_t* handle) {
  static_cast<stream_fanout*>(handle->data)->deliver();
}

// A viewer may close while it is offered the frame (it fell too far behind): it leaves
// `viewers_` then, so the loop runs over a copy. A closing connection stays allocated until its
// close callbacks, which run after this callback.
void stream_fanout::deliver() {
  auto viewers = viewers_;
  for (auto* viewer : viewers)
    viewer->on_feed();
}

} // namespace telluride::http
