// stream_fanout.hpp — the server's live streams: which connections view which event feed, and
// the handle that wakes the loop when a feed publishes (internal).
//
// A connection whose request was answered with a stream (response.hpp) becomes a viewer here
// and leaves when it closes; the feed hears of both (event_feed::add_viewer, remove_viewer), so
// its publisher knows whether anyone looks. Feeds are watched from the first viewer on until
// the server stops.
// A publish on any thread sends the loop one wake-up (sends coalesce); the loop then offers the
// latest frame to every viewer, which writes it or, when too far behind, closes
// (connection::on_feed).
//
// Thread rule: every member function runs on the loop thread. The feeds' wake functions run on
// the publishing threads and only call uv_async_send, under a mutex that `close` takes before
// closing the handle, so no send ever reaches a closed handle.
#pragma once

#include "telluride/http/event_feed.hpp"

#include <uv.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace telluride::http {

class connection;

class stream_fanout {
public:
  /// Initialises the wake-up handle on `loop`; call on the loop's thread before it runs.
  explicit stream_fanout(uv_loop_t* loop);
  stream_fanout(const stream_fanout&) = delete;
  stream_fanout& operator=(const stream_fanout&) = delete;

  /// `viewer` now streams `feed`.
  void add(connection& viewer, const std::shared_ptr<event_feed>& feed);
  /// `viewer` no longer streams `feed` (it is closing). Unknown viewers are ignored.
  void remove(connection& viewer, event_feed& feed);

  /// Open streams. Any thread.
  std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }

  /// Stops watching the feeds and closes the handle (when the server stops). Idempotent.
  void close();

private:
  /// Shared with the feeds' wake functions, which may outlive this object.
  struct wake_target {
    std::mutex mutex;
    uv_async_t* async = nullptr;  ///< null once closed
  };

  static void on_async(uv_async_t* handle);
  void deliver();

  uv_async_t async_{};
  std::shared_ptr<wake_target> wake_ = std::make_shared<wake_target>();
  std::vector<connection*> viewers_;
  std::vector<std::pair<std::shared_ptr<event_feed>, std::uint64_t>> watched_;
  std::atomic<std::size_t> count_{0};
  bool is_closed_ = false;
};

} // namespace telluride::http
