#include "causeway/amqp/delivery_assembler.hpp"

#include "causeway/amqp/field_table.hpp"
#include "causeway/amqp/bytes.hpp"

#include <amqp_framing.h>

#include <algorithm>
#include <string_view>
#include <utility>

namespace causeway::amqp {

namespace {

std::string tag_text(std::uint64_t tag) { return "delivery " + std::to_string(tag); }

std::string oversize_reason(std::uint64_t body_size, std::size_t max_body_size) {
  return "body of " + std::to_string(body_size) + " bytes exceeds max_body_size " +
         std::to_string(max_body_size);
}

void add_properties(metadata& md, const amqp_basic_properties_t& p, const delivery_metadata& keep) {
  if (keep.message_id && (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG))
    md.add("message_id", text(p.message_id));
  if (keep.correlation_id && (p._flags & AMQP_BASIC_CORRELATION_ID_FLAG))
    md.add("correlation_id", text(p.correlation_id));
  if (keep.timestamp && (p._flags & AMQP_BASIC_TIMESTAMP_FLAG))
    md.add("timestamp", std::to_string(p.timestamp));
  if (keep.content_type && (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG))
    md.add("content_type", text(p.content_type));
  if (keep.headers && (p._flags & AMQP_BASIC_HEADERS_FLAG) && p.headers.num_entries > 0)
    md.add("headers", to_json(p.headers));
}

/// Room for the metadata `keep` asks of a delivery, in bytes and entries: the fields of the
/// basic.deliver exactly, the properties' values guessed at 96 bytes in all.
std::pair<std::size_t, std::size_t> metadata_room(const amqp_basic_deliver_t& deliver, const delivery_metadata& keep) {
  std::size_t bytes = std::string_view{"redelivered"}.size() + std::string_view{"false"}.size();
  std::size_t entries = 1;
  auto room = [&](bool kept, std::string_view key, std::size_t value) {
    if (kept) {
      bytes += key.size() + value;
      ++entries;
    }
  };
  room(keep.delivery_tag, "delivery_tag", 20);
  room(keep.exchange, "exchange", deliver.exchange.len);
  room(keep.routing_key, "routing_key", deliver.routing_key.len);
  const std::size_t before = bytes;
  room(keep.message_id, "message_id", 0);
  room(keep.correlation_id, "correlation_id", 0);
  room(keep.timestamp, "timestamp", 0);
  room(keep.content_type, "content_type", 0);
  room(keep.headers, "headers", 0);
  if (bytes != before)
    bytes += 96;
  return {bytes, entries};
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
  if (std::holds_alternative<awaiting_header>(phase_)) {
    out = break_off(tag_text(current_->delivery_tag) + " broken off by " + tag_text(deliver.delivery_tag) +
                    " before its content header");
  } else if (const auto* r = std::get_if<reading_body>(&phase_)) {
    out = break_off(tag_text(current_->delivery_tag) + " broken off by " + tag_text(deliver.delivery_tag) +
                    " after " + std::to_string(current_->msg.data.size()) + " of " +
                    std::to_string(r->body_size) + " body bytes");
  } else if (in_progress()) {
    out = break_off({});
  }
  current_.emplace();
  if (recycled_)
    current_->recycled = recycled_->take(current_->msg.data, current_->msg.metadata);
  current_->delivery_tag = deliver.delivery_tag;
  current_->redelivered = deliver.redelivered != 0;
  // Each key is added once, into room for all of them: one allocation per message, none when
  // the buffer came back from an earlier one with room enough.
  auto& md = current_->msg.metadata;
  const auto [bytes, entries] = metadata_room(deliver, keep_);
  md.reserve(bytes, entries);
  if (keep_.delivery_tag)
    md.add("delivery_tag", std::to_string(deliver.delivery_tag));
  md.add("redelivered", current_->redelivered ? "true" : "false");
  if (keep_.exchange)
    md.add("exchange", text(deliver.exchange));
  if (keep_.routing_key)
    md.add("routing_key", text(deliver.routing_key));
  phase_ = awaiting_header{};
  return out;
}

feed_result delivery_assembler::on_header(const amqp_frame_t& frame) {
  if (!std::holds_alternative<awaiting_header>(phase_)) {
    if (const auto* r = std::get_if<reading_body>(&phase_))
      return break_off(tag_text(current_->delivery_tag) + ": a second content header after " +
                       std::to_string(current_->msg.data.size()) + " of " + std::to_string(r->body_size) +
                       " body bytes");
    if (in_progress())
      return break_off({});
    feed_result out;
    out.outcome = frame_outcome::ignored;
    out.problem = "content header without a basic.deliver before it";
    return out;
  }
  const auto& props = frame.payload.properties;
  if (props.class_id == AMQP_BASIC_CLASS && props.decoded != nullptr)
    add_properties(current_->msg.metadata, *static_cast<const amqp_basic_properties_t*>(props.decoded), keep_);
  const std::uint64_t body_size = props.body_size;
  feed_result out;
  out.outcome = frame_outcome::taken;
  if (body_size > limits_.max_body_size) {
    phase_ = skipping_body{body_size, 0};
    return out;
  }
  // body_size fits in memory from here on: it is at most max_body_size. A recycled body too
  // small for it is replaced by one of the exact size: std::string::reserve would double it, and
  // a buffer grown past what the pool keeps would not come back.
  const auto wanted =
    static_cast<std::size_t>(std::min<std::uint64_t>(body_size, limits_.reserve_ahead)) + limits_.padding;
  if (current_->msg.data.capacity() < wanted) {
    std::string exact;
    exact.reserve(wanted);
    current_->msg.data.swap(exact);
  }
  if (body_size == 0)
    return end_delivery(frame_outcome::completed);
  phase_ = reading_body{body_size};
  return out;
}

feed_result delivery_assembler::on_body(amqp_bytes_t fragment) {
  feed_result out;
  out.outcome = frame_outcome::taken;
  if (auto* r = std::get_if<reading_body>(&phase_)) {
    auto& body = current_->msg.data;
    if (fragment.len > r->body_size - body.size())
      return break_off(tag_text(current_->delivery_tag) + ": body frames carry more than the " +
                       std::to_string(r->body_size) + " bytes announced");
    if (fragment.len == 0)
      return out;
    grow(body, r->body_size, body.size() + fragment.len);
    body.append(static_cast<const char*>(fragment.bytes), fragment.len);
    if (body.size() == r->body_size)
      return end_delivery(frame_outcome::completed);
    return out;
  }
  if (auto* s = std::get_if<skipping_body>(&phase_)) {
    s->skipped += std::min<std::uint64_t>(fragment.len, s->body_size - s->skipped);
    if (s->skipped == s->body_size)
      return break_off({});
    return out;
  }
  if (std::holds_alternative<awaiting_header>(phase_))
    return break_off(tag_text(current_->delivery_tag) + ": body frame before its content header");
  out.outcome = frame_outcome::ignored;
  out.problem = "body frame of " + std::to_string(fragment.len) + " bytes without a delivery";
  return out;
}

feed_result delivery_assembler::break_off(const std::string& why) {
  if (!in_progress())
    return {};
  auto outcome = frame_outcome::broken;
  std::string reason = why;
  if (const auto* s = std::get_if<skipping_body>(&phase_)) {
    outcome = frame_outcome::oversized;
    reason = oversize_reason(s->body_size, limits_.max_body_size);
  }
  // A failed delivery carries no body, and frees what it held (assigning an empty string would
  // keep the allocation).
  current_->msg.data.clear();
  current_->msg.data.shrink_to_fit();
  current_->msg.fail(std::move(reason));
  return end_delivery(outcome);
}

feed_result delivery_assembler::end_delivery(frame_outcome outcome) {
  feed_result out;
  out.outcome = outcome;
  out.delivery.emplace(std::move(*current_));
  current_.reset();
  phase_ = idle{};
  return out;
}

void delivery_assembler::grow(std::string& body, std::uint64_t body_size, std::size_t needed) const {
  if (body.capacity() >= needed + limits_.padding)
    return;
  // Ahead of what arrived: reserve_ahead, or as much as arrived when that is more, so the bytes
  // copied while a large body grows stay below its size (a 1 MiB body in 128 KiB frames: 3
  // allocations and 0.6 MiB copied, instead of 8 and 3.5 MiB). A fresh string of the exact
  // size: std::string::reserve on a non-empty string may double on its own.
  const std::size_t ahead = std::max(limits_.reserve_ahead, needed);
  std::string grown;
  grown.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(body_size, needed + ahead)) + limits_.padding);
  grown.append(body);
  body.swap(grown);
}

std::size_t delivery_assembler::buffered() const noexcept {
  return std::holds_alternative<reading_body>(phase_) ? current_->msg.data.size() : 0;
}

std::size_t delivery_assembler::reserved() const noexcept {
  return std::holds_alternative<reading_body>(phase_) ? current_->msg.data.capacity() : 0;
}

} // namespace causeway::amqp
