// queue_source.hpp — consume a RabbitMQ queue as a Causeway producer (as broadway_rabbitmq does).
//
// A `queue_source` owns (or shares) one consuming connection; each producer stage it
// creates gets its own channel on it (`producer.concurrency` = channels), with qos prefetch,
// the queue declared and bound as configured, and a basic.consume. Deliveries are gathered
// over read bursts and handed to the stage in one vector (`handoff_interval`); the channels of
// one topology gather together, and with `route_by` each message goes to the stage its key
// picks, whichever channel brought it (per-key order across channels). Each message
// carries an ack reference (delivery tag + the channel's epoch) and metadata:
//
//   delivery_tag, redelivered ("true"/"false"), exchange, routing_key, and when the publisher
//   set them: message_id, correlation_id, timestamp (seconds), content_type, headers (JSON);
//   of those, the ones `queue_source_options::metadata` keeps (all by default).
//
// AMQP bodies carry 64 bytes of spare capacity: `message.data.capacity() >= size() + 64`, so
// a simdjson parser can read its padding without a second copy. A body announced larger than
// `max_body_size` is never read into memory: its message arrives failed ("body of N bytes
// exceeds max_body_size M", empty data), goes through handle_failed and is settled by
// `on_failure`, except that it is never requeued (it would fail again forever): rejected
// instead, so a queue with a dead-letter exchange dead-letters it.
//
// Acknowledgements are coalesced per channel: settled tags are tracked and, whenever the
// lowest unsettled tag advances, one basic.ack(multiple) covers the contiguous run (failures:
// basic.reject / basic.nack(multiple) per `on_failure`). Flushes happen within
// `connection.flush_interval` (2 ms) or at once when `ack_batch` messages are settled. After a
// channel or connection is replaced, acks of the old epoch are dropped (never sent on the new
// channel, where their tags mean other messages) and counted: the broker redelivers those
// messages, flagged redelivered.
#pragma once

#include "causeway/acknowledger.hpp"
#include "causeway/amqp/arguments.hpp"
#include "causeway/amqp/connection.hpp"
#include "causeway/amqp/delivery_metadata.hpp"
#include "causeway/amqp/error.hpp"
#include "causeway/expected.hpp"
#include "causeway/producer.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace causeway::amqp {

namespace detail {
struct queue_channel_counters;
struct group_formation;
}

/// What happens to a failed message (broadway_rabbitmq's on_failure).
enum class failure_policy : std::uint8_t {
  reject,                   ///< basic.reject requeue=false: dropped, or dead-lettered by the queue's DLX
  reject_and_requeue,       ///< requeue=true: delivered again (flagged redelivered)
  reject_and_requeue_once,  ///< requeue unless the message was already redelivered, then reject
  ack,                      ///< acknowledge it anyway: the handler dealt with it (e.g. dead-lettered it itself)
};

/// How the queue is declared when `queue_source_options::declare` is set.
struct queue_declaration {
  bool durable = true;
  bool exclusive = false;
  bool auto_delete = false;
  arguments args;  ///< x-dead-letter-exchange, x-dead-letter-routing-key, x-max-priority...
};

struct queue_binding {
  std::string exchange;
  std::string routing_key;
  arguments args;
};

struct queue_source_options {
  connection_options connection = default_connection();
  std::string queue;
  /// Declare the queue (idempotently) before consuming; without it the queue must exist.
  std::optional<queue_declaration> declare;
  std::vector<queue_binding> bindings;
  std::uint16_t prefetch_count = 50;  ///< basic.qos per channel: bounds messages in flight
  failure_policy on_failure = failure_policy::reject_and_requeue;
  std::string consumer_tag;     ///< empty: the broker generates one
  arguments consume_arguments;  ///< e.g. {"x-priority", 10}
  /// Settled messages that trigger an immediate ack flush; 0 = prefetch_count / 4.
  std::size_t ack_batch = 0;
  /// Deliveries read are gathered and handed to the producer stage in one vector once a
  /// quarter of prefetch_count (at most 256) is gathered, or this long after the first of
  /// them was read, whichever comes first (1..1000 ms). Every hand-off wakes the stages
  /// downstream once: at a low rate a longer wait means fewer, fuller hand-offs (Flink's
  /// buffer timeout); at a high rate the size cuts them first. It adds at most this much
  /// to a message's latency. While reads are paced (connection_options::read_interval) and the
  /// next read comes no sooner than this, each read hands on what it brought at once.
  std::chrono::milliseconds handoff_interval{24};
  /// The largest body read into memory, in bytes (1..512 MiB, RabbitMQ's own ceiling). A
  /// larger one is skipped as it arrives and its message fails (see above).
  std::size_t max_body_size = 1024 * 1024;
  /// The metadata each message carries (see above): leave out what no handler reads.
  delivery_metadata metadata;
  /// With several producer stages (channels), the broker hands a key's messages to whichever
  /// channel has room, and stages race each other: per-key order would hold only within one
  /// channel. The channels of one topology therefore gather what they read together, in read
  /// order, and each message goes to stage `route_by(msg) % stages`, whichever channel brought
  /// it: give every message of one key the same value (e.g. the processors' partition_by)
  /// and each key's messages reach their processor in the order the connection read them.
  /// Runs on the connection thread, only with more than one stage, not for failed
  /// messages; what it throws fails the message. Empty: each channel's messages go to its own
  /// stage (order holds within a channel only).
  std::function<std::uint64_t(message&)> route_by;
  /// Runs on the connection thread for each delivery as it is read (not for failed ones), before
  /// route_by, with any number of stages: while its body is still in the reading core's cache,
  /// e.g. to decode it into message::decoded once for the stages after it. What it throws fails
  /// the message. Empty: nothing.
  std::function<void(message&)> on_read;
  /// Gives each channel's acknowledger a way in front of it: messages carry what this returns
  /// for it (e.g. an ack_gate's `wrap`, which holds acknowledgements until a checkpoint holds
  /// the messages' effect). Empty: messages carry the channel's acknowledger itself.
  std::function<std::shared_ptr<acknowledger>(std::shared_ptr<acknowledger>)> acknowledge_through;
  /// Lets through what `acknowledge_through` holds (e.g. runs a checkpoint round and releases
  /// it). Called on the thread that stops a producer, or fails its in-flight messages back,
  /// before its channel closes or gives them back: the last moment their delivery tags still
  /// mean something. It may block as long as it needs. Empty: nothing is held.
  std::function<void()> release_held;
  /// Runs on the connection thread each time a channel is about to consume (basic.consume),
  /// after the queue's declaration: at the first open and again after every loss. A failure
  /// keeps the channel from consuming: it is closed and opened again after the channel's
  /// retry delay, like any channel failure. E.g. taking an exclusive lock queue on the
  /// consuming connection, so that one process at a time consumes (a failure marked
  /// `is_expected`, such as the lock another process holds, is logged at info). Empty: always
  /// consume.
  std::function<failure(channel&)> before_consume;
  /// Runs on the connection thread each time a channel's unsettled deliveries reach
  /// prefetch_count: the broker sends that channel nothing more until some are settled. E.g.
  /// an ack_gate's `hurry`, so that what it holds is let through now rather than at the next
  /// checkpoint. Empty: nothing.
  std::function<void()> on_window_full;

  static connection_options default_connection() {
    connection_options o;
    o.name = "causeway-consumer";
    // Few wake-ups at a low, steady rate (read_pacer.hpp); at most 48 ms more latency, half
    // the default batch timeout. No shorter than handoff_interval: a read hands on what it
    // brought in the same wake-up (channel::next_read_in).
    o.longest_read_interval = std::chrono::milliseconds{48};
    return o;
  }
};

/// Checks the options; the error names the key (`prefetch_count must be in 1..65535, got 0`).
expected<void> validate(const queue_source_options& options);

/// Counters over every channel of a source, readable from any thread.
struct queue_source_stats {
  std::uint64_t delivered = 0;    ///< messages handed to producer stages
  std::uint64_t handoffs = 0;     ///< sink.deliver calls (per hand-off, one per stage given messages)
  std::uint64_t deferred_handoffs = 0;  ///< hand-offs that waited for a later read or handoff_interval
  std::uint64_t redelivered = 0;  ///< of which the broker flagged redelivered
  std::uint64_t recycled = 0;     ///< of which filled into the buffers of settled ones (no allocation)
  std::uint64_t acked = 0;        ///< settled successfully (on a live channel)
  std::uint64_t rejected = 0;     ///< settled failed, not requeued
  std::uint64_t requeued = 0;     ///< settled failed, requeued
  std::uint64_t ack_frames = 0;   ///< basic.ack / nack / reject frames sent
  std::uint64_t dropped_acks = 0; ///< settlements of a replaced channel: expected redeliveries
  std::uint64_t oversized = 0;    ///< failed on arrival: body over max_body_size (in `delivered`)
  std::uint64_t malformed = 0;    ///< frames out of order from the broker (broken-off deliveries
                                  ///< are failed and in `delivered`; stray frames are dropped)
  std::uint64_t window_full = 0;  ///< times a channel's prefetch window filled: the broker then
                                  ///< sends nothing until acknowledgements free a slot
  double window_full_seconds = 0; ///< how long the windows stayed full, in all

  /// Adds every counter of `other` (several sources, or a source's earlier lives).
  queue_source_stats& operator+=(const queue_source_stats& other) noexcept {
    delivered += other.delivered;
    handoffs += other.handoffs;
    deferred_handoffs += other.deferred_handoffs;
    redelivered += other.redelivered;
    recycled += other.recycled;
    acked += other.acked;
    rejected += other.rejected;
    requeued += other.requeued;
    ack_frames += other.ack_frames;
    dropped_acks += other.dropped_acks;
    oversized += other.oversized;
    malformed += other.malformed;
    window_full += other.window_full;
    window_full_seconds += other.window_full_seconds;
    return *this;
  }
};

class queue_source {
public:
  /// Validates, connects (unless `shared` is given) and declares the queue and bindings once,
  /// so a bad URL, refused login or PRECONDITION_FAILED surfaces here as one line.
  static expected<std::shared_ptr<queue_source>>
  open(queue_source_options options, std::shared_ptr<amqp::connection> shared = nullptr);

  /// For pipeline_spec::make_producer: producer i gets its own channel. The factory keeps
  /// the source alive.
  producer_factory factory();

  queue_source_stats stats() const noexcept;
  const std::shared_ptr<amqp::connection>& connection() const noexcept { return connection_; }
  const queue_source_options& options() const noexcept { return options_; }

  queue_source(queue_source_options options, std::shared_ptr<amqp::connection> connection);

private:
  queue_source_options options_;
  std::shared_ptr<amqp::connection> connection_;
  std::shared_ptr<detail::queue_channel_counters> counters_;
  std::shared_ptr<detail::group_formation> groups_;
};

/// queue_source::open(options) and its factory, for when the source is not needed.
expected<producer_factory> make_producer_factory(queue_source_options options);

} // namespace causeway::amqp
