// describe.hpp — rabbitmq-c's results as `failure`s: the one mapping of error.hpp (internal).
#pragma once

#include "causeway/amqp/error.hpp"

#include <amqp.h>

#include <string_view>

namespace causeway::amqp {

/// The one mapping. `step` says what was attempted ("declare queue \"q\"", "login to amqp://..").
/// A normal reply gives a failure with scope none.
failure describe(const amqp_rpc_reply_t& reply, std::string_view step);

/// A channel.close or connection.close the broker sent (method frame) — same wording as RPCs.
failure describe_close(const amqp_method_t& method, std::string_view step);

} // namespace causeway::amqp
