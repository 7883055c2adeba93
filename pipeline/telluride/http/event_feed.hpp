// event_feed.hpp — the latest frame of a live stream, and who to wake when it changes.
//
// One writer (any thread) publishes complete frames, already framed for the wire (sse_frame.hpp);
// every server that streams the feed is woken and sends the frame to each of its viewers. The
// frame is stored once and shared by every viewer's write (a viewer costs a pointer, not a
// copy). Only the latest frame is kept: a viewer woken late gets the newest, which replaces the
// ones it missed (each frame is a whole snapshot).
//
// Thread rule: every member function may be called from any thread. Wake functions run on the
// publishing thread, with the feed's lock held: they must only signal (uv_async_send), never
// call back into the feed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace telluride::http {

class event_feed {
public:
  /// One published frame; serial 0 and no bytes before the first publish.
  struct frame {
    std::uint64_t serial = 0;
    std::shared_ptr<const std::string> bytes;
  };

  /// Replaces the latest frame with `bytes` (serial + 1) and wakes every watcher.
  void publish(std::string bytes);

  /// The latest frame.
  frame latest() const;

  /// Calls `wake` after every publish until `unwatch(id)`; returns that id.
  std::uint64_t watch(std::function<void()> wake);
  void unwatch(std::uint64_t id);
  std::size_t watchers() const;

private:
  mutable std::mutex mutex_;
  frame latest_;
  std::uint64_t next_watcher_ = 0;
  std::map<std::uint64_t, std::function<void()>> watchers_;
};

} // namespace telluride::http
