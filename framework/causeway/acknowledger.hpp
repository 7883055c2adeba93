// acknowledger.hpp — how finished messages get back to their source.
//
// A stage calls `ack` once it has finished a group of messages: after handle_batch, or after
// handle_message in a pipeline without batchers. Messages are grouped by acknowledger, so an
// acknowledger sees every message of a batch that is its own in one call.
#pragma once

#include "causeway/message.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace causeway {

/// A message that succeeded, as its source knows it: enough to acknowledge it once the
/// message itself is gone (an ack_gate keeps only this while it holds an acknowledgement).
struct delivery_ref {
  std::uint64_t tag = 0;
  std::uint32_t epoch = 0;
};

class acknowledger {
public:
  virtual ~acknowledger() = default;
  /// Called from whichever stage finished the messages, on that stage's thread: an
  /// acknowledger must be thread-safe. At least one of the spans is non-empty. The messages
  /// are destroyed once it returns: it may move out of them what it reuses (their buffers).
  virtual void ack(std::span<message> successful, std::span<message> failed) = 0;
  /// Acknowledges messages that succeeded, known by their references only. Same threads and
  /// rules as `ack`; `successful` is not empty. The default calls `ack` with a message for
  /// each reference (its tag and epoch, nothing else); a source that needs no more than the
  /// reference (AMQP's) takes them as they are.
  virtual void ack_refs(std::span<const delivery_ref> successful);
  /// Messages that succeeded and whose acknowledgement is held elsewhere (an ack_gate, which
  /// calls `ack_refs` later): a source that reuses its messages' buffers may move them out, as
  /// in `ack`. Same threads and rules as `ack`. The default takes nothing.
  virtual void recycle(std::span<message> done) { (void)done; }
};

/// Groups `successful` and `failed` by acknowledger and calls each one once. Messages
/// without an acknowledger are skipped. Reorders the vectors.
void acknowledge(std::vector<message>& successful, std::vector<message>& failed);

} // namespace causeway
