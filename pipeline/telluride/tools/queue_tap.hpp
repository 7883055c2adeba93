// queue_tap.hpp — read messages of one queue on the calling thread, for tools and tests.
//
// A tap is a Causeway queue_source with one producer whose sink is a blocking (scoped)
// actor: `take` waits up to a timeout for the next read burst. It either consumes a queue that
// exists (acking what the tool handled: `acknowledge`), or a private queue of its own —
// exclusive and auto-deleted, bound to an exchange and routing key — which sees a copy of
// everything routed there from the moment `open` returns, without taking anything from the
// durable queues other consumers read. Messages not acknowledged when the tap closes go back
// to their queue (flagged redelivered).
#pragma once

#include <causeway/amqp/arguments.hpp>
#include <causeway/amqp/connection.hpp>
#include <causeway/expected.hpp>
#include <causeway/message.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace telluride::tools {

struct tap_options {
  causeway::amqp::connection_options connection;
  /// Consume this existing queue (must exist); empty: a private queue bound as below.
  std::string queue;
  std::string exchange;     ///< private queue: bound to this exchange...
  std::string routing_key;  ///< ...with this key
  std::string private_queue;  ///< the private queue's name (empty: telluride-tap.<pid>.<random>)
  std::uint16_t prefetch_count = 100;
  /// Declare `exchange` (durable, direct, as the daemon does) before binding to it, so a tap
  /// can start before the daemon ever ran.
  bool declare_exchange = true;
  /// basic.consume arguments (a stream's `x-stream-offset`).
  causeway::amqp::arguments consume_arguments;
  /// The largest body read into memory (queue_source_options::max_body_size).
  std::size_t max_body_size = 1024 * 1024;
  /// Deliveries are handed to `take` in bursts at most this long after the first of them was
  /// read (queue_source_options::handoff_interval, 1..1000 ms).
  std::chrono::milliseconds handoff_interval{24};
  /// What a failed message gets (one over max_body_size): requeued, or for a stream, which
  /// accepts nothing but acks, acknowledged.
  bool is_stream = false;
};

class queue_tap {
public:
  /// Connects, declares the private queue and its binding (or checks the queue exists) and
  /// starts consuming. Errors are one line (unreachable broker, NOT_FOUND...).
  static causeway::expected<std::unique_ptr<queue_tap>> open(tap_options options);
  ~queue_tap();
  queue_tap(const queue_tap&) = delete;
  queue_tap& operator=(const queue_tap&) = delete;

  /// The next read burst, waiting up to `timeout`; empty when nothing came. Calling thread.
  std::vector<causeway::message> take(std::chrono::milliseconds timeout);
  /// Acks `done` (handled) to the broker.
  void acknowledge(std::vector<causeway::message>& done);
  /// The queue read: the given one, or the private queue's generated name.
  const std::string& queue() const noexcept;

  struct impl;
  explicit queue_tap(std::unique_ptr<impl> state);

private:
  std::unique_ptr<impl> impl_;
};

} // namespace telluride::tools
