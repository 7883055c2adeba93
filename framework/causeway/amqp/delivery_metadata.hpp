// delivery_metadata.hpp — which fields of an AMQP delivery a consumed message carries.
#pragma once

namespace causeway::amqp {

/// Which fields of a delivery its message's metadata carries (broadway_rabbitmq's `metadata`
/// option): all of them by default. `redelivered` is always there: the failure policies read
/// it. A consumer whose handlers read few of them saves formatting and copying the others for
/// every message (`delivery_tag` in decimal, `headers` as JSON).
struct delivery_metadata {
  bool delivery_tag = true;
  bool exchange = true;
  bool routing_key = true;
  bool message_id = true;
  bool correlation_id = true;
  bool timestamp = true;
  bool content_type = true;
  bool headers = true;
};

} // namespace causeway::amqp
