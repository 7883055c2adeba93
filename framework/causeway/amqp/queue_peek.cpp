#include "causeway/amqp/queue_peek.hpp"

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/describe.hpp"

#include <amqp_framing.h>

namespace causeway::amqp {

expected<std::optional<std::string>> peek_message(connection& conn, const std::string& queue) {
  std::optional<std::string> body;
  const std::string step = "peek at queue \"" + queue + "\"";
  failure result;
  const bool ran = conn.run_sync([&] {
    result = conn.with_temporary_channel([&](channel& ch) {
      const amqp_rpc_reply_t reply = amqp_basic_get(ch.state(), ch.id(), view(queue), 0);
      if (reply.reply_type != AMQP_RESPONSE_NORMAL || reply.reply.id != AMQP_BASIC_GET_OK_METHOD)
        return describe(reply, step);  // get-empty is a normal reply: no failure, no body
      amqp_message_t message;
      const amqp_rpc_reply_t read = amqp_read_message(ch.state(), ch.id(), &message, 0);
      if (read.reply_type != AMQP_RESPONSE_NORMAL)
        return describe(read, step);
      body.emplace(text(message.body));
      amqp_destroy_message(&message);
      // Given back at once, not only when the channel closes: the broker requeues it before it
      // handles the close, so the head is in place again when the close-ok comes (the queue's
      // own count may still lag a moment behind).
      const auto* got = static_cast<const amqp_basic_get_ok_t*>(reply.reply.decoded);
      if (amqp_basic_reject(ch.state(), ch.id(), got->delivery_tag, 1) != AMQP_STATUS_OK)
        return failure{failure_scope::connection, 0, step + ": the reject could not be sent"};
      return failure{};
    });
  });
  if (!ran)
    return error{"connection to " + conn.address().endpoint() + " is shut down"};
  if (result)
    return result.to_error();
  return body;
}

} // namespace causeway::amqp
