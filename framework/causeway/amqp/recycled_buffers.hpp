// recycled_buffers.hpp — message buffers going back to the connection thread that filled them.
//
// A consumed message's body and metadata are allocated on the connection thread, which copies
// them out of the socket, and freed on whichever stage thread finished the message. With
// glibc's allocator each such free past the freeing thread's small cache goes back under the
// lock of the connection thread's arena (a stage preempted while holding it stalls the
// connection), and the connection thread's own cache stays empty, so each of its allocations
// takes the slow path. Instead, the queue channel's acknowledger takes the buffers of the
// messages it is given (they are destroyed once `ack` returns) and puts them here, one lock per
// batch; the assembler fills the next deliveries into them. Neither side allocates nor frees per
// message once the pool holds a window's worth. Oldest first, and neither emptied nor written
// where they are given: a buffer's lines then leave the giving core's cache before the
// connection thread writes them (newest first cost that thread more than the allocator did;
// docs/architecture.md has the figures).
//
// Bounded: buffers come back only for messages the connection delivered, so what waits here is
// at most what was in flight at once (a prefetch window's worth); `max_held` pairs a side is a
// backstop. A buffer that grew past `max_capacity` (a large body) is freed where it is, not
// kept, and so are the buffers of failed messages (settled rarely, through other paths).
#pragma once

#include "causeway/message.hpp"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace causeway::amqp {

class recycled_buffers {
public:
  /// A message's body and metadata, emptied, with their allocations.
  struct pair {
    std::string body;
    causeway::metadata metadata;
  };

  static constexpr std::size_t default_max_capacity = 4096;

  explicit recycled_buffers(std::size_t max_held, std::size_t max_capacity = default_max_capacity)
    : max_held_(max_held), max_capacity_(max_capacity) {}

  /// Any thread: takes the buffers of `done` (messages about to be destroyed), as many as fit,
  /// without touching their bytes.
  void give(std::span<message> done);

  /// Connection thread: moves a body and a metadata buffer that came back into `body` and `md`
  /// (both empty, with the capacity their last message needed), or returns false when none did.
  bool take(std::string& body, causeway::metadata& md);

  /// Pairs waiting, on either side. Connection thread (or while nothing runs: tests).
  std::size_t held();

private:
  /// Keeps a buffer whose allocation is worth reusing; an empty one on the heap (a body of
  /// less than 16 bytes lives inside the string) is not.
  bool worth_keeping(std::size_t capacity) const noexcept {
    return capacity > std::string{}.capacity() && capacity <= max_capacity_;
  }

  const std::size_t max_held_;
  const std::size_t max_capacity_;
  std::mutex mutex_;
  std::vector<pair> returned_;  // guarded by mutex_
  // returned_.size(), written under mutex_: take reads it first and, while nothing came back,
  // skips the lock (whose cache line the giving core last wrote) for every delivery.
  std::atomic<std::size_t> returned_count_{0};
  std::vector<pair> ready_;     // connection thread: taken from the front
  std::size_t next_ = 0;        // connection thread: the next in ready_ to take
};

} // namespace causeway::amqp
