// queue_peek.hpp — the message at the head of a queue, read without taking it.
//
// `basic.get` without auto-ack on a temporary channel, which is then closed: the broker puts
// the unacknowledged message back in its place (flagged redelivered). For small queues that
// hold a value rather than work, such as one holding the latest of something
// (`x-max-length: 1`). Any thread but the connection's.
#pragma once

#include "causeway/amqp/connection.hpp"
#include "causeway/expected.hpp"

#include <optional>
#include <string>

namespace causeway::amqp {

/// The body of the message at the head of `queue`, or nothing when the queue is empty; a
/// missing queue or a refused read is a one-line error (`peek at queue "q": NOT_FOUND - ...`).
expected<std::optional<std::string>> peek_message(connection& conn, const std::string& queue);

} // namespace causeway::amqp
