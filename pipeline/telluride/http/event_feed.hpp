// event_feed.hpp — the latest frame of a live stream, and who to wake when it changes.
//
// One writer (any thread) publishes complete frames, already framed for the wire (sse_frame.hpp);
// every server that streams the feed is woken and sends the frame to each of its viewers. The
// frame is stored once and shared by every viewer's write (a viewer costs a pointer, not a
// copy). Only the latest frame is kept: a viewer woken late gets the newest, which replaces the
// ones it missed (each frame is a whole snapshot).
//
// The feed also counts its viewers, so that its publisher can rest while nobody looks: when
// the last viewer leaves the latest frame is dropped (it would be stale for the next one), and
// a viewer arriving at a feed nobody viewed calls the publisher's demand function, which
// publishes a fresh frame at once; that viewer gets it as every viewer gets a publish.
//
// Thread rule: every member function may be called from any thread. Wake and demand functions
// run on the calling thread (the publisher's, the server loop's), with the feed's lock held:
// they must only signal (uv_async_send, a condition variable), never call back into the feed.
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

  /// A viewer starts streaming this feed: from none to one, the demand function runs.
  void add_viewer();
  /// A viewer stops; after the last, latest() has no bytes until the next publish (the serial
  /// is kept). More removes than adds are ignored.
  void remove_viewer();
  /// Viewers now: 0 means a publish is seen by nobody (the next viewer asks for a fresh one).
  std::size_t viewers() const;
  /// Runs `wanted` whenever a viewer arrives to a feed that had none; empty: nothing. The
  /// publisher sets it, and clears it before it goes away.
  void on_demand(std::function<void()> wanted);

private:
  mutable std::mutex mutex_;
  frame latest_;
  std::uint64_t next_watcher_ = 0;
  std::map<std::uint64_t, std::function<void()>> watchers_;
  std::size_t viewers_ = 0;
  std::function<void()> on_demand_;
};

} // namespace telluride::http
