// queue_channel_phase.hpp — where a consuming channel is in its life, and where its drain is.
//
// Pure: no sockets, no rabbitmq-c calls. The queue channel (queue_channel.hpp) tells its
// `queue_channel_lifecycle` what happened and does the step it returns; the rules live here and
// nowhere else (queue_channel_phase_test.cpp checks them as a table). Two values, because a drain
// outlives the channel it started on: the acknowledgements of a drained queue channel still flow.
//
// The channel:
//
//   phase                     event                 next
//   detached                  attach                channel_closed
//   channel_closed            attach refused        detached (the connection is shutting down)
//   channel_closed            opened(ch, epoch)     channel_open{ch, epoch}
//   channel_open              consuming_as(tag)     consuming{channel_open, tag}
//   consuming                 cancelled             channel_open
//   channel_open, consuming   lost                  channel_closed (reopened by the connection)
//   any                       closed                detached
//
// The connection may open the channel while attach runs: attach_to enters channel_closed
// before it asks for the channel.
//
// The drain (start_draining, basic.cancel, cancel-ok):
//
//   phase            event                       next        step
//   not_draining     drain, consuming, usable    cancelling  send_cancel (the drain ends on cancel-ok)
//   not_draining     drain, otherwise            drained     finish_drain
//   cancelling       cancel failed to send       drained     finish_drain
//   cancelling       cancelled (cancel-ok, or    drained     finish_drain
//                    the broker's basic.cancel)
//   cancelling       lost, closed                drained     finish_drain (nothing more comes)
//   not_draining     the broker's basic.cancel   —           fail_channel (reopen and consume again)
//   not_draining     set up                      —           consume
//   cancelling       set up                      drained     finish_drain (the cancelled consumer is gone)
//   drained          set up                      —           nothing: a drained consumer never consumes again
//   any              drain again                 —           nothing
//
// finish_drain is returned once per queue channel, ever: the sink hears `drained()` once.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace causeway::amqp {
class channel;
}

namespace causeway::amqp::detail {

/// Not attached to a connection: before attach_to, after close.
struct detached {};
/// Attached; the channel is closed: the connection opens it when it can (at once when
/// connected, after a reconnect, or after backoff when it failed).
struct channel_closed {};
/// The channel is open and set up (qos, declarations), with no consumer on it: not yet, or
/// cancelled. Settlements of generation `epoch` can be sent on `ch`.
struct channel_open {
  channel* ch;
  std::uint32_t epoch;
};
/// basic.consume succeeded: deliveries flow to the consumer `tag`.
struct consuming {
  channel_open open;
  std::string tag;
};

using queue_channel_phase = std::variant<detached, channel_closed, channel_open, consuming>;

enum class drain_phase : std::uint8_t {
  not_draining,
  cancelling,  ///< basic.cancel sent; cancel-ok ends the drain
  drained,     ///< the sink heard drained(); final
};

/// What the queue channel does after an event.
enum class queue_channel_step : std::uint8_t {
  nothing,
  consume,       ///< basic.consume on the channel just set up
  send_cancel,   ///< basic.cancel; report cancel_failed if it could not be sent
  finish_drain,  ///< hand on what was read, then sink.drained()
  fail_channel,  ///< the broker cancelled the consumer: close the channel, reopen after backoff
};

/// Names for logs and tests ("channel_open", "cancelling", "finish_drain").
const char* name(const queue_channel_phase& phase) noexcept;
const char* name(drain_phase drain) noexcept;
const char* name(queue_channel_step step) noexcept;

class queue_channel_lifecycle {
public:
  const queue_channel_phase& phase() const noexcept { return phase_; }
  drain_phase drain() const noexcept { return drain_; }

  // --- the channel ---

  /// attach_to begins. False if already attached (nothing to do).
  bool attach();
  /// The connection refused the channel (it is shutting down).
  void attach_refused();
  /// The connection (re)opened the channel, generation `epoch`.
  void opened(channel& ch, std::uint32_t epoch);
  /// The channel is set up: consume, or not (draining).
  queue_channel_step set_up();
  /// basic.consume succeeded.
  void consuming_as(std::string tag);
  /// The consumer was cancelled: cancel-ok (`by_broker` false) or the broker's basic.cancel.
  queue_channel_step cancelled(bool by_broker);
  /// The channel or the connection failed; the connection reopens the channel later.
  queue_channel_step lost();
  /// close(): the channel was detached from the connection.
  queue_channel_step closed();

  // --- the drain ---

  /// start_draining. `channel_usable`: the live channel can still send.
  queue_channel_step start_draining(bool channel_usable);
  /// The basic.cancel send_cancel asked for could not be sent.
  queue_channel_step cancel_failed();

  // --- questions ---

  bool is_attached() const noexcept { return !std::holds_alternative<detached>(phase_); }
  /// The open channel and its generation (channel_open or consuming), or null.
  const channel_open* live() const noexcept;
  /// The consumer tag while consuming, or null.
  const std::string* consumer_tag() const noexcept;

private:
  queue_channel_step end_drain_if_cancelling() noexcept;

  queue_channel_phase phase_{detached{}};
  drain_phase drain_ = drain_phase::not_draining;
};

} // namespace causeway::amqp::detail
