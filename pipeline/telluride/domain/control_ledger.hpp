// control_ledger.hpp — recognises a control message that the broker delivers again after the
// daemon handled it.
//
// A reconfiguration is acknowledged only once its drain is over (docs/wire-format.md,
// Reconfiguration), so a drain that outlasts the broker's consumer_timeout (or a connection
// lost meanwhile) has the broker close the channel and deliver the message again; the
// acknowledgement sent after the drain is void. Applying that copy again would drain and
// restart a second time and publish a second config_applied for one message. The ledger
// remembers the messages handled lately (applied or rejected) by their AMQP message_id and a
// hash of their body, and recognises a copy: a delivery the broker flagged redelivered with the
// same message_id and body. A message without message_id cannot be recognised (`telluride
// config set` always sets one). Not thread-safe.
#pragma once

#include "telluride/domain/message_id_window.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace telluride {

class control_ledger {
public:
  /// Remembers the last `capacity` handled messages.
  explicit control_ledger(std::size_t capacity = 1024);

  /// True when the delivery is a copy of a handled message: `redelivered` by the broker, with a
  /// non-empty `message_id` and a body handled with that id before.
  bool is_copy(std::string_view message_id, std::string_view body, bool redelivered) const;

  /// Records a message that was applied or rejected; without a message_id, nothing.
  void handled(std::string_view message_id, std::string_view body);

private:
  static std::uint64_t identity(std::string_view message_id, std::string_view body) noexcept;

  message_id_window seen_;
};

} // namespace telluride
