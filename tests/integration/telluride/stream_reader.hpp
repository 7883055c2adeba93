// stream_reader.hpp — a plain synchronous rabbitmq-c consumer of a RabbitMQ stream over AMQP
// 0.9.1, for tests: what a reader of the state stream has to do, step by step.
//
// A stream is consumed, never drained: basic.get is refused, and a consumer needs a prefetch
// (basic.qos) and manual acknowledgements, which only grant credit (the message stays in the
// stream). Where to start is the consume argument `x-stream-offset`: "first", "last", "next",
// or an offset (a long). Each delivery carries its offset in the header `x-stream-offset` (a
// long). There is no end-of-stream signal: a reader knows it is at the end when it reached an
// offset it knows was written (its own marker) or nothing arrives for a while.
#pragma once

#include "broker_helpers.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <causeway/amqp/field_table.hpp>
#include <causeway/amqp/bytes.hpp>
#include <causeway/amqp/url.hpp>

#include <chrono>
#include <memory>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace telluride::test {

struct stream_delivery {
  std::string body;
  std::optional<std::int64_t> offset;  ///< the header x-stream-offset
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
};

class stream_reader {
public:
  /// Connects, sets basic.qos(`prefetch`) unless it is 0, and consumes `stream` with manual
  /// acks (unless `no_ack`) from `offset`. Throws with the broker's reason when refused.
  stream_reader(const std::string& url_text, const std::string& stream, causeway::amqp::argument_value offset,
                std::uint16_t prefetch = 10, bool no_ack = false) {
    auto url = causeway::amqp::parse_url(url_text);
    if (!url)
      throw std::runtime_error(url.err().message);
    conn_.reset(amqp_new_connection());
    auto* socket = amqp_tcp_socket_new(conn_.get());
    if (amqp_socket_open(socket, url->host.c_str(), url->port) != AMQP_STATUS_OK)
      throw std::runtime_error("cannot connect to " + url->endpoint());
    check(amqp_login(conn_.get(), url->vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, url->user.c_str(),
                     url->password.c_str()),
          "login");
    amqp_channel_open(conn_.get(), 1);
    check(amqp_get_rpc_reply(conn_.get()), "channel.open");
    if (prefetch != 0) {
      amqp_basic_qos(conn_.get(), 1, 0, prefetch, 0);
      check(amqp_get_rpc_reply(conn_.get()), "basic.qos");
    }
    causeway::amqp::arguments args{{"x-stream-offset", std::move(offset)}};
    causeway::amqp::field_table table(args);
    amqp_basic_consume(conn_.get(), 1, causeway::amqp::view(stream), amqp_empty_bytes, 0, no_ack ? 1 : 0, 0, table.get());
    check(amqp_get_rpc_reply(conn_.get()), "basic.consume");
  }
  stream_reader(const stream_reader&) = delete;
  stream_reader& operator=(const stream_reader&) = delete;

  /// The next delivery, or nothing when none came within `timeout`.
  std::optional<stream_delivery> next(std::chrono::milliseconds timeout) {
    amqp_maybe_release_buffers(conn_.get());
    amqp_envelope_t envelope;
    timeval tv{static_cast<long>(timeout.count() / 1000), static_cast<long>(timeout.count() % 1000) * 1000};
    auto reply = amqp_consume_message(conn_.get(), &envelope, &tv, 0);
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT)
      return std::nullopt;
    check(reply, "consume");
    stream_delivery out;
    out.body.assign(causeway::amqp::text(envelope.message.body));
    out.delivery_tag = envelope.delivery_tag;
    out.redelivered = envelope.redelivered != 0;
    const auto& props = envelope.message.properties;
    if (props._flags & AMQP_BASIC_HEADERS_FLAG)
      for (int i = 0; i < props.headers.num_entries; ++i) {
        const auto& entry = props.headers.entries[i];
        if (causeway::amqp::text(entry.key) == "x-stream-offset" && entry.value.kind == AMQP_FIELD_KIND_I64)
          out.offset = entry.value.value.i64;
      }
    amqp_destroy_envelope(&envelope);
    return out;
  }

  void ack(std::uint64_t delivery_tag) {
    if (amqp_basic_ack(conn_.get(), 1, delivery_tag, 0) != AMQP_STATUS_OK)
      throw std::runtime_error("basic.ack failed");
  }

private:
  // A refusal (channel.close or connection.close) as one line naming the broker's reason.
  void check(const amqp_rpc_reply_t& reply, const std::string& step) {
    if (reply.reply_type == AMQP_RESPONSE_NORMAL)
      return;
    if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      const auto* close = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
      throw std::runtime_error(step + ": " + std::string(causeway::amqp::text(close->reply_text)));
    }
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      amqp_frame_t frame;
      if (amqp_simple_wait_frame(conn_.get(), &frame) == AMQP_STATUS_OK && frame.frame_type == AMQP_FRAME_METHOD &&
          frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_channel_close_t*>(frame.payload.method.decoded);
        throw std::runtime_error(step + ": " + std::string(causeway::amqp::text(close->reply_text)));
      }
    }
    throw std::runtime_error(step + " failed");
  }

  struct closer {
    void operator()(amqp_connection_state_t conn) const {
      amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
      amqp_destroy_connection(conn);
    }
  };
  // Closed (with its channel) and freed also when the constructor throws.
  std::unique_ptr<amqp_connection_state_t_, closer> conn_;
};

} // namespace telluride::test
