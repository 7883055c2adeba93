// error.hpp — what went wrong talking to the broker, in one line, and what it breaks.
//
// Every rabbitmq-c result (an RPC reply, a status code, a channel.close or connection.close
// the broker sent on its own) is mapped to a `failure` by exactly one function, `describe`
// (describe.hpp, internal: it takes rabbitmq-c's types).
// The scope decides the recovery: a channel-level failure (PRECONDITION_FAILED, NOT_FOUND,
// an unknown delivery tag...) closes only that channel, which is reopened; a connection-level
// failure (socket error, heartbeat timeout, CONNECTION_FORCED, ACCESS_REFUSED...) takes the
// whole connection down and it reconnects.
#pragma once

#include "causeway/expected.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace causeway::amqp {

enum class failure_scope : std::uint8_t { none, channel, connection };

struct failure {
  failure_scope scope = failure_scope::none;
  std::uint16_t code = 0;  ///< AMQP reply code (406, 320...), 0 for library errors
  std::string message;     ///< one line: "<step>: <reason>"
  /// A state the application set up rather than a fault, such as a standby whose
  /// before_consume found another consumer's lock: a channel closed by it is logged at info,
  /// not as a warning (queue_source_options::before_consume).
  bool is_expected = false;

  explicit operator bool() const noexcept { return scope != failure_scope::none; }
  causeway::error to_error() const { return causeway::error{message}; }
};

/// A rabbitmq-c status code (AMQP_STATUS_*) from a non-RPC call: connection-level unless OK.
failure describe_status(int status, std::string_view step);

/// The symbolic name of an AMQP reply code ("PRECONDITION_FAILED"), or "" if unknown.
std::string_view reply_code_name(std::uint16_t code) noexcept;

} // namespace causeway::amqp
