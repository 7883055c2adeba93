// producer.hpp — the source side of a pipeline, implemented by users and by the AMQP module.
//
// A producer stage (an actor) owns one `producer` object and buffers what it delivers; the
// stage, not the producer, answers downstream demand. A producer only has to deliver what it
// takes, stop taking when asked to drain, and know which of its messages are unacknowledged.
#pragma once

#include "causeway/message.hpp"

#include <caf/actor.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace causeway {

/// The producer's way into its stage. Thread-safe and cheap to copy: a producer may call it
/// from its own threads (the AMQP producer calls it from its connection thread).
/// Any actor can be a sink: it receives (deliver_atom, std::vector<message>) and
/// (drained_atom), (stalled_atom), the atoms of causeway/atoms.hpp.
class producer_sink {
public:
  producer_sink() = default;
  explicit producer_sink(caf::actor stage) : stage_(std::move(stage)) {}

  /// Hands messages to the stage, which emits them as downstream demand allows.
  void deliver(std::vector<message> messages) const;
  /// After prepare_for_draining: every message taken has been delivered; nothing more comes.
  void drained() const;
  /// Nothing more comes until some of what was delivered is acknowledged (an AMQP prefetch
  /// window is full). Batchers then cut their open batches once everything delivered before
  /// reached them (batch_trigger::stalled): waiting out batch_timeout for messages that cannot
  /// come would only hold back the acknowledgements that let them come.
  void stalled() const;

  const caf::actor& stage() const noexcept { return stage_; }

private:
  caf::actor stage_;
};

class producer {
public:
  virtual ~producer() = default;
  /// Called once, on the stage's thread, when the topology starts.
  virtual void start(producer_sink sink) = 0;
  /// Stop taking new messages; call sink.drained() once all messages taken so far have been
  /// delivered. Called once, on the stage's thread.
  virtual void prepare_for_draining() = 0;
  /// The topology died abnormally: every message this producer delivered and that has not
  /// been acknowledged never will be. Fail them back to their acknowledger with `reason`.
  /// Called on the supervisor's thread after the stage is gone.
  virtual void fail_in_flight(std::string_view reason) = 0;
  /// Releases the source (closes channels...). Called once, last, on the supervisor's thread.
  virtual void stop() {}
};

/// Creates the producer of stage `index` each time a topology starts: for 0, 1, ...,
/// concurrency-1 in that order, all before any of them starts (the AMQP source groups the
/// producers of one topology by this).
using producer_factory = std::function<std::unique_ptr<producer>(std::size_t index)>;

} // namespace causeway
