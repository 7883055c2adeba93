// amqp_session.hpp — a plain synchronous rabbitmq-c client for end-to-end and integration
// tests: publish readings the way any producer would, and read what the daemon published with
// basic.get.
#pragma once

#include "pending_confirms.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <causeway/amqp/bytes.hpp>
#include <causeway/amqp/url.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace telluride::test {

struct received {
  std::string body;
  std::string message_id;
  std::string content_type;
  std::uint8_t delivery_mode = 0;
  std::map<std::string, std::string> headers;  ///< string-valued headers only
  bool redelivered = false;
};

class amqp_session {
public:
  explicit amqp_session(const std::string& url_text) {
    auto url = causeway::amqp::parse_url(url_text);
    if (!url)
      throw std::runtime_error(url.err().message);
    conn_ = amqp_new_connection();
    auto* socket = amqp_tcp_socket_new(conn_);
    if (amqp_socket_open(socket, url->host.c_str(), url->port) != AMQP_STATUS_OK)
      throw std::runtime_error("cannot connect to " + url->endpoint());
    check(amqp_login(conn_, url->vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                     url->user.c_str(), url->password.c_str()), "login");
    amqp_channel_open(conn_, 1);
    check(amqp_get_rpc_reply(conn_), "channel.open");
    amqp_confirm_select(conn_, 1);
    check(amqp_get_rpc_reply(conn_), "confirm.select");
  }
  ~amqp_session() {
    amqp_channel_close(conn_, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn_);
  }
  amqp_session(const amqp_session&) = delete;
  amqp_session& operator=(const amqp_session&) = delete;

  /// Publishes persistently; confirmed in bulk by wait_confirms(). `headers` are string-valued.
  void publish(const std::string& exchange, const std::string& routing_key, const std::string& body,
               const std::string& message_id = {}, const std::string& correlation_id = {},
               const std::map<std::string, std::string>& headers = {}) {
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    std::vector<amqp_table_entry_t> entries;
    for (const auto& [key, value] : headers) {
      amqp_table_entry_t entry{};
      entry.key = causeway::amqp::view(key);
      entry.value.kind = AMQP_FIELD_KIND_UTF8;
      entry.value.value.bytes = causeway::amqp::view(value);
      entries.push_back(entry);
    }
    if (!entries.empty()) {
      props._flags |= AMQP_BASIC_HEADERS_FLAG;
      props.headers = amqp_table_t{static_cast<int>(entries.size()), entries.data()};
    }
    props.delivery_mode = 2;
    props.content_type = amqp_cstring_bytes("application/json");
    if (!message_id.empty()) {
      props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
      props.message_id = amqp_cstring_bytes(message_id.c_str());
    }
    if (!correlation_id.empty()) {
      props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
      props.correlation_id = amqp_cstring_bytes(correlation_id.c_str());
    }
    if (amqp_basic_publish(conn_, 1, amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes(routing_key.c_str()),
                           0, 0, &props, causeway::amqp::view(body)) != AMQP_STATUS_OK)
      throw std::runtime_error("basic.publish failed");
    unconfirmed_.published();
  }

  /// Waits for the broker's confirms of everything published (acks may be multiple, and come
  /// in any order: pending_confirms.hpp).
  void wait_confirms() {
    while (!unconfirmed_.empty()) {
      amqp_frame_t frame;
      timeval tv{30, 0};
      if (amqp_simple_wait_frame_noblock(conn_, &frame, &tv) != AMQP_STATUS_OK)
        throw std::runtime_error("no publisher confirm within 30 s (" + std::to_string(unconfirmed_.count()) +
                                 " unconfirmed)");
      if (frame.frame_type != AMQP_FRAME_METHOD)
        continue;
      switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
          auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
          unconfirmed_.settle(ack->delivery_tag, ack->multiple != 0);
          break;
        }
        case AMQP_BASIC_NACK_METHOD:
          throw std::runtime_error("the broker refused a publish (basic.nack)");
        case AMQP_CHANNEL_CLOSE_METHOD: {
          auto* close = static_cast<amqp_channel_close_t*>(frame.payload.method.decoded);
          throw std::runtime_error("the broker closed the publishing channel: " +
                                   std::string(static_cast<const char*>(close->reply_text.bytes), close->reply_text.len));
        }
        case AMQP_CONNECTION_CLOSE_METHOD: {
          auto* close = static_cast<amqp_connection_close_t*>(frame.payload.method.decoded);
          throw std::runtime_error("the broker closed the publishing connection: " +
                                   std::string(static_cast<const char*>(close->reply_text.bytes), close->reply_text.len));
        }
        default:
          break;
      }
    }
  }

  /// One message from `queue` (acknowledged), or nullopt when it is empty.
  std::optional<received> get(const std::string& queue) {
    auto reply = amqp_basic_get(conn_, 1, amqp_cstring_bytes(queue.c_str()), 1);
    check(reply, "basic.get " + queue);
    if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
      return std::nullopt;
    auto* ok = static_cast<amqp_basic_get_ok_t*>(reply.reply.decoded);
    received out;
    out.redelivered = ok->redelivered != 0;
    amqp_message_t message;
    check(amqp_read_message(conn_, 1, &message, 0), "read message");
    out.body.assign(static_cast<const char*>(message.body.bytes), message.body.len);
    const auto& p = message.properties;
    if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
      out.message_id.assign(static_cast<const char*>(p.message_id.bytes), p.message_id.len);
    if (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
      out.content_type.assign(static_cast<const char*>(p.content_type.bytes), p.content_type.len);
    if (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
      out.delivery_mode = p.delivery_mode;
    if (p._flags & AMQP_BASIC_HEADERS_FLAG)
      for (int i = 0; i < p.headers.num_entries; ++i) {
        const auto& e = p.headers.entries[i];
        if (e.value.kind == AMQP_FIELD_KIND_UTF8 || e.value.kind == AMQP_FIELD_KIND_BYTES)
          out.headers[std::string(static_cast<const char*>(e.key.bytes), e.key.len)] =
            std::string(static_cast<const char*>(e.value.value.bytes.bytes), e.value.value.bytes.len);
      }
    amqp_destroy_message(&message);
    return out;
  }

  /// Everything in `queue` now.
  std::vector<received> drain(const std::string& queue) {
    std::vector<received> out;
    while (auto m = get(queue))
      out.push_back(std::move(*m));
    return out;
  }

  /// Ready messages of `queue` (a passive declare).
  std::uint32_t ready(const std::string& queue) {
    auto* ok = amqp_queue_declare(conn_, 1, amqp_cstring_bytes(queue.c_str()), 1, 0, 0, 0, amqp_empty_table);
    check(amqp_get_rpc_reply(conn_), "queue.declare passive " + queue);
    return ok->message_count;
  }

  void delete_queue(const std::string& queue) {
    amqp_queue_delete(conn_, 1, amqp_cstring_bytes(queue.c_str()), 0, 0);
    check(amqp_get_rpc_reply(conn_), "queue.delete " + queue);
  }

private:
  static void check(const amqp_rpc_reply_t& reply, const std::string& step) {
    if (reply.reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error(step + " failed");
  }

  amqp_connection_state_t conn_ = nullptr;
  pending_confirms unconfirmed_;
};

} // namespace telluride::test
