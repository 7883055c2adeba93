// frame_builder.hpp — AMQP frames as rabbitmq-c hands them over after decoding, built by hand
// for the delivery assembler's unit tests and fuzz target. The builder owns everything the
// frames point at: keep it alive while they are used.
#pragma once

#include <amqp.h>
#include <amqp_framing.h>

#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace amqp_test {

class frame_builder {
public:
  /// Bytes that stay valid as long as the builder.
  amqp_bytes_t keep(std::string s) {
    auto& kept = strings_.emplace_back(std::move(s));
    return amqp_bytes_t{kept.size(), kept.empty() ? nullptr : kept.data()};
  }

  amqp_frame_t deliver(std::uint64_t tag, bool redelivered = false, std::string exchange = "ex",
                       std::string routing_key = "rk") {
    auto& d = delivers_.emplace_back();
    d.consumer_tag = keep("ctag");
    d.delivery_tag = tag;
    d.redelivered = redelivered ? 1 : 0;
    d.exchange = keep(std::move(exchange));
    d.routing_key = keep(std::move(routing_key));
    return method(AMQP_BASIC_DELIVER_METHOD, &d);
  }

  /// A method frame; `decoded` may be null for methods whose arguments do not matter.
  amqp_frame_t method(amqp_method_number_t id, void* decoded = nullptr) {
    amqp_frame_t f{};
    f.frame_type = AMQP_FRAME_METHOD;
    f.channel = 1;
    f.payload.method.id = id;
    f.payload.method.decoded = decoded;
    return f;
  }

  /// A content header whose properties are `props` (no flags: none set).
  amqp_frame_t header(std::uint64_t body_size, amqp_basic_properties_t props = {}) {
    auto& p = properties_.emplace_back(props);
    amqp_frame_t f{};
    f.frame_type = AMQP_FRAME_HEADER;
    f.channel = 1;
    f.payload.properties.class_id = AMQP_BASIC_CLASS;
    f.payload.properties.body_size = body_size;
    f.payload.properties.decoded = &p;
    return f;
  }

  amqp_frame_t body(std::string bytes) {
    amqp_frame_t f{};
    f.frame_type = AMQP_FRAME_BODY;
    f.channel = 1;
    f.payload.body_fragment = keep(std::move(bytes));
    return f;
  }

  amqp_frame_t heartbeat() {
    amqp_frame_t f{};
    f.frame_type = AMQP_FRAME_HEARTBEAT;
    return f;
  }

private:
  std::deque<std::string> strings_;
  std::deque<amqp_basic_deliver_t> delivers_;
  std::deque<amqp_basic_properties_t> properties_;
};

} // namespace amqp_test
