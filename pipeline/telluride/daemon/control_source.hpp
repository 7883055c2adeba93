// control_source.hpp — the control queue as the config actor takes it.
//
// Each config actor instance owns one control_source: `start` opens a channel on the control
// queue (the queue's source, its connection and its prefetch belong to the daemon's start-up)
// that delivers to the actor as (deliver_atom, messages), in order. `stop_taking` asks for no
// more; the actor then receives (drained_atom) once everything taken was delivered. `close`
// (or destruction, when the actor stops for any reason) closes the channel: whatever was not
// acknowledged goes back to the queue and is delivered again, flagged redelivered. Without a
// control queue nothing ever arrives and the source counts as drained from the start. Used on
// the owning actor's thread only.
#pragma once

#include <causeway/amqp/queue_source.hpp>
#include <causeway/producer.hpp>

#include <caf/actor.hpp>
#include <caf/response_promise.hpp>

#include <memory>
#include <vector>

namespace telluride {

class control_source {
public:
  /// `queue` null: no control queue (reconfiguration through HTTP only).
  explicit control_source(std::shared_ptr<causeway::amqp::queue_source> queue);
  control_source(const control_source&) = delete;
  control_source& operator=(const control_source&) = delete;

  /// Starts delivering to `sink`; false when there is no control queue (nothing to drain).
  bool start(caf::actor sink);
  /// Stops taking control messages; `sink` receives (drained_atom) once all taken were delivered.
  void stop_taking();
  /// Closes the channel (idempotent).
  void close();

private:
  std::shared_ptr<causeway::amqp::queue_source> queue_;
  std::unique_ptr<causeway::producer> channel_;
};

/// The (shutdown_atom) requests of an actor that owns a control_source (the config actor, the
/// control forwarder): the first stops the source taking; once the source drained and the actor
/// has nothing left to do, `answer` closes the source and answers every request with `true`.
class shutdown_requests {
public:
  /// Records a request; the first stops `source` taking.
  void add(caf::response_promise reply, control_source& source);
  bool any() const noexcept { return asked_; }
  /// Closes `source` and answers every request so far.
  void answer(control_source& source);

private:
  bool asked_ = false;
  std::vector<caf::response_promise> replies_;
};

} // namespace telluride
