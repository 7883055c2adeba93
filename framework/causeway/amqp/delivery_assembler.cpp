#include "causeway/amqp/delivery_assembler.hpp"

#include "causeway/amqp/field_table.hpp"
#include "causeway/amqp/bytes.hpp"

#include <amqp_framing.h>

#include <algorithm>
#include <string_view>

namespace causeway::amqp {

namespace {

std::string tag_text(std::uint64_t tag) { return "delivery " + std::to_string(tag); }

std::string oversize_reason(std::uint64_t body_size, std::size_t max_body_size) {
  return "body of " + std::to_string(body_size) + " bytes exceeds max_body_size " +
         std::to_string(max_body_size);
}

void add_properties(metadata& md, const amqp_basic_properties_t& p) {
  if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
    md.add("message_id", text(p.message_id));
  if (p._flags & AMQP_BASIC_CORRELATION_ID_FLAG)
    md.add("correlation_id", text(p.correlation_id));
  if (p._flags & AMQP_BASIC_TIMESTAMP_FLAG)
    md.add("timestamp", std::to_string(p.timestamp));
  if (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
    md.add("content_type", text(p.content_type));
  if ((p._flags & AMQP_BASIC_HEADERS_FLAG) && p.headers.num_entries > 0)
    md.add("headers", to_json(p.headers));
}

} // namespace

feed_result delivery_assembler::feed(const amqp_frame_t& frame) {
  switch (frame.frame_type) {
    case AMQP_FRAME_METHOD:
      if (frame.payload.method.id != AMQP_BASIC_DELIVER_METHOD || frame.payload.method.decoded == nullptr)
        return {};
      return on_deliver(*static_cast<const amqp_basic_deliver_t*>(frame.payload.method.decoded));
    case AMQP_FRAME_HEADER:
      return on_header(frame);
    case AMQP_FRAME_BODY:
      return on_body(frame.payload.body_fragment);
    default:
      return {};
  }
}

feed_result delivery_assembler::on_deliver(const amqp_basic_deliver_t& deliver) {
  feed_result out;
  out.outcome = frame_outcome::taken;
  if (const auto* w = std::get_if<awaiting_header>(&phase_)) {
    out = break_off(tag_text(w->d.delivery_tag) + " broken off by " + tag_text(deliver.delivery_tag) +
                    " before its content header");
  } else if (const auto* r = std::get_if<reading_body>(&phase_)) {
    out = break_off(tag_text(r->d.delivery_tag) + " broken off by " + tag_text(deliver.delivery_tag) +
                    " after " + std::to_string(r->d.msg.data.size()) + " of " +
                    std::to_string(r->body_size) + " body bytes");
  } else if (in_progress()) {
    out = break_off({});
  }
  assembled_delivery next;
  next.delivery_tag = deliver.delivery_tag;
  next.redelivered = deliver.redelivered != 0;
  // Each key is added once, into room for all of them (the properties' values guessed at 96
  // bytes): one allocation per message.
  auto& md = next.msg.metadata;
  md.reserve(deliver.exchange.len + deliver.routing_key.len + 96 + 140, 9);
  md.add("delivery_tag", std::to_string(deliver.delivery_tag));
  md.add("redelivered", next.redelivered ? "true" : "false");
  md.add("exchange", text(deliver.exchange));
  md.add("routing_key", text(deliver.routing_key));
  phase_ = awaiting_header{std::move(next)};
  return out;
}

feed_result delivery_assembler::on_header(const amqp_frame_t& frame) {
  auto* waiting = std::get_if<awaiting_header>(&phase_);
  if (waiting == nullptr) {
    if (const auto* r = std::get_if<reading_body>(&phase_))
      return break_off(tag_text(r->d.delivery_tag) + ": a second content header after " +
                       std::to_string(r->d.msg.data.size()) + " of " + std::to_string(r->body_size) +
                       " body bytes");
    if (in_progress())
      return break_off({});
    feed_result out;
    out.outcome = frame_outcome::ignored;
    out.problem = "content header without a basic.deliver before it";
    return out;
  }
  assembled_delivery d = std::move(waiting->d);
  const auto& props = frame.payload.properties;
  if (props.class_id == AMQP_BASIC_CLASS && props.decoded != nullptr)
    add_properties(d.msg.metadata, *static_cast<const amqp_basic_properties_t*>(props.decoded));
  const std::uint64_t body_size = props.body_size;
  feed_result out;
  out.outcome = frame_outcome::taken;
  if (body_size > limits_.max_body_size) {
    phase_ = skipping_body{std::move(d), body_size, 0};
    return out;
  }
  // body_size fits in memory from here on: it is at most max_body_size.
  d.msg.data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(body_size, limits_.reserve_ahead)) +
                     limits_.padding);
  if (body_size == 0) {
    phase_ = idle{};
    out.outcome = frame_outcome::completed;
    out.delivery = std::move(d);
    return out;
  }
  phase_ = reading_body{std::move(d), body_size};
  return out;
}

feed_result delivery_assembler::on_body(amqp_bytes_t fragment) {
  feed_result out;
  out.outcome = frame_outcome::taken;
  if (auto* r = std::get_if<reading_body>(&phase_)) {
    auto& body = r->d.msg.data;
    if (fragment.len > r->body_size - body.size())
      return break_off(tag_text(r->d.delivery_tag) + ": body frames carry more than the " +
                       std::to_string(r->body_size) + " bytes announced");
    if (fragment.len == 0)
      return out;
    grow(body, r->body_size, body.size() + fragment.len);
    body.append(static_cast<const char*>(fragment.bytes), fragment.len);
    if (body.size() == r->body_size) {
      out.outcome = frame_outcome::completed;
      out.delivery = std::move(r->d);
      phase_ = idle{};
    }
    return out;
  }
  if (auto* s = std::get_if<skipping_body>(&phase_)) {
    s->skipped += std::min<std::uint64_t>(fragment.len, s->body_size - s->skipped);
    if (s->skipped == s->body_size)
      return break_off({});
    return out;
  }
  if (const auto* w = std::get_if<awaiting_header>(&phase_))
    return break_off(tag_text(w->d.delivery_tag) + ": body frame before its content header");
  out.outcome = frame_outcome::ignored;
  out.problem = "body frame of " + std::to_string(fragment.len) + " bytes without a delivery";
  return out;
}

feed_result delivery_assembler::break_off(const std::string& why) {
  feed_result out;
  assembled_delivery* d = nullptr;
  std::string reason = why;
  out.outcome = frame_outcome::broken;
  if (auto* w = std::get_if<awaiting_header>(&phase_)) {
    d = &w->d;
  } else if (auto* r = std::get_if<reading_body>(&phase_)) {
    d = &r->d;
  } else if (auto* s = std::get_if<skipping_body>(&phase_)) {
    d = &s->d;
    out.outcome = frame_outcome::oversized;
    reason = oversize_reason(s->body_size, limits_.max_body_size);
  }
  if (d == nullptr)
    return {};
  d->msg.data = std::string{};  // a failed delivery carries no body, and frees what it held
  d->msg.fail(std::move(reason));
  out.delivery = std::move(*d);
  phase_ = idle{};
  return out;
}

void delivery_assembler::grow(std::string& body, std::uint64_t body_size, std::size_t needed) const {
  if (body.capacity() >= needed + limits_.padding)
    return;
  // A fresh string of the exact size: std::string::reserve on a non-empty string may double.
  std::string grown;
  grown.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(body_size, needed + limits_.reserve_ahead)) +
                limits_.padding);
  grown.append(body);
  body.swap(grown);
}

std::size_t delivery_assembler::buffered() const noexcept {
  const auto* r = std::get_if<reading_body>(&phase_);
  return r != nullptr ? r->d.msg.data.size() : 0;
}

std::size_t delivery_assembler::reserved() const noexcept {
  const auto* r = std::get_if<reading_body>(&phase_);
  return r != nullptr ? r->d.msg.data.capacity() : 0;
}

} // namespace causeway::amqp
