// acknowledger.hpp — how finished messages get back to their source.
//
// A stage calls `ack` once it has finished a group of messages: after handle_batch, or after
// handle_message in a pipeline without batchers. Messages are grouped by acknowledger, so an
// acknowledger sees every message of a batch that is its own in one call.
#pragma once

#include "causeway/message.hpp"

#include <span>
#include <vector>

namespace causeway {

class acknowledger {
public:
  virtual ~acknowledger() = default;
  /// Called from whichever stage finished the messages, on that stage's thread: an
  /// acknowledger must be thread-safe. At least one of the spans is non-empty.
  virtual void ack(std::span<message> successful, std::span<message> failed) = 0;
};

/// Groups `successful` and `failed` by acknowledger and calls each one once. Messages
/// without an acknowledger are skipped. Reorders the vectors.
void acknowledge(std::vector<message>& successful, std::vector<message>& failed);

} // namespace causeway
