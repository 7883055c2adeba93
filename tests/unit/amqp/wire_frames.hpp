// wire_frames.hpp — AMQP frames as bytes on the wire, encoded by rabbitmq-c's own public
// encoders, and what a decoded frame holds, copied out: for the frame reader's tests, which
// compare what it decodes with what rabbitmq-c decodes from the same bytes.
#pragma once

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/frame_reader.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wire_test {

using causeway::amqp::text;
using causeway::amqp::view;
using causeway::amqp::detail::frame_reader;

inline constexpr std::size_t frame_max = 131072;

inline void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

inline void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}

inline std::string frame_bytes(std::uint8_t type, std::uint16_t channel, const std::string& payload) {
  std::string out;
  out.push_back(static_cast<char>(type));
  put16(out, channel);
  put32(out, static_cast<std::uint32_t>(payload.size()));
  out += payload;
  out.push_back(static_cast<char>(AMQP_FRAME_END));
  return out;
}

// Frames encoded by rabbitmq-c's own public encoders.
inline std::string method_frame(std::uint16_t channel, amqp_method_number_t id, void* method) {
  std::string payload(4096, '\0');
  int n = amqp_encode_method(id, method, amqp_bytes_t{payload.size(), payload.data()});
  REQUIRE(n >= 0);
  payload.resize(static_cast<std::size_t>(n));
  std::string ids;
  put32(ids, id);
  return frame_bytes(AMQP_FRAME_METHOD, channel, ids + payload);
}

inline std::string header_frame(std::uint16_t channel, std::uint64_t body_size, amqp_basic_properties_t* props) {
  std::string encoded(65536, '\0');
  int n = amqp_encode_properties(AMQP_BASIC_CLASS, props, amqp_bytes_t{encoded.size(), encoded.data()});
  REQUIRE(n >= 0);
  encoded.resize(static_cast<std::size_t>(n));
  std::string payload;
  put16(payload, AMQP_BASIC_CLASS);
  put16(payload, 0);
  put32(payload, static_cast<std::uint32_t>(body_size >> 32));
  put32(payload, static_cast<std::uint32_t>(body_size));
  return frame_bytes(AMQP_FRAME_HEADER, channel, payload + encoded);
}

inline std::string deliver_frames(std::uint16_t channel, std::uint64_t tag, const std::string& body,
                           amqp_basic_properties_t* props, std::size_t body_frame = 1 << 20) {
  amqp_basic_deliver_t deliver{};
  deliver.consumer_tag = view("ctag-1");
  deliver.delivery_tag = tag;
  deliver.redelivered = tag % 2;
  deliver.exchange = view("readings");
  const std::string routing_key = "sensor-" + std::to_string(tag % 7);
  deliver.routing_key = view(routing_key);
  std::string out = method_frame(channel, AMQP_BASIC_DELIVER_METHOD, &deliver);
  out += header_frame(channel, body.size(), props);
  for (std::size_t at = 0; at < body.size(); at += body_frame)
    out += frame_bytes(AMQP_FRAME_BODY, channel, body.substr(at, body_frame));
  return out;
}

// A field value as text: its kind and what the kind's union member holds.
inline std::string describe(const amqp_field_value_t& v) {
  std::string out(1, static_cast<char>(v.kind));
  out += ':';
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN: return out + std::to_string(v.value.boolean);
    case AMQP_FIELD_KIND_I8: return out + std::to_string(v.value.i8);
    case AMQP_FIELD_KIND_U8: return out + std::to_string(v.value.u8);
    case AMQP_FIELD_KIND_I16: return out + std::to_string(v.value.i16);
    case AMQP_FIELD_KIND_U16: return out + std::to_string(v.value.u16);
    case AMQP_FIELD_KIND_I32: return out + std::to_string(v.value.i32);
    case AMQP_FIELD_KIND_U32: case AMQP_FIELD_KIND_F32: return out + std::to_string(v.value.u32);
    case AMQP_FIELD_KIND_I64: return out + std::to_string(v.value.i64);
    case AMQP_FIELD_KIND_U64: case AMQP_FIELD_KIND_F64: case AMQP_FIELD_KIND_TIMESTAMP:
      return out + std::to_string(v.value.u64);
    case AMQP_FIELD_KIND_DECIMAL:
      return out + std::to_string(v.value.decimal.decimals) + "/" + std::to_string(v.value.decimal.value);
    case AMQP_FIELD_KIND_UTF8: case AMQP_FIELD_KIND_BYTES: return out + std::string(text(v.value.bytes));
    case AMQP_FIELD_KIND_TABLE:
      for (int i = 0; i < v.value.table.num_entries; ++i)
        out += "{" + std::string(text(v.value.table.entries[i].key)) + "=" + describe(v.value.table.entries[i].value) + "}";
      return out;
    case AMQP_FIELD_KIND_ARRAY:
      for (int i = 0; i < v.value.array.num_entries; ++i)
        out += "[" + describe(v.value.array.entries[i]) + "]";
      return out;
    default: return out;
  }
}

// One decoded frame, copied out of whatever buffer it pointed into.
struct seen {
  int type = 0;
  int channel = 0;
  std::uint32_t method = 0;
  std::uint64_t tag = 0;
  int redelivered = -1;
  std::string consumer_tag, exchange, routing_key;
  std::uint64_t body_size = 0;
  amqp_flags_t flags = 0;
  std::vector<std::string> strings;  // the short-string properties its flags announce, in order
  int delivery_mode = -1, priority = -1;
  std::uint64_t timestamp = 0;
  std::string content_type, message_id, header_key;
  std::int64_t header_value = 0;
  std::vector<std::string> headers;  // key=value of every entry
  std::string body;

  bool operator==(const seen&) const = default;
};

inline seen copy(const amqp_frame_t& f) {
  seen s;
  s.type = f.frame_type;
  s.channel = f.channel;
  if (f.frame_type == AMQP_FRAME_METHOD) {
    s.method = f.payload.method.id;
    if (f.payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
      const auto* d = static_cast<const amqp_basic_deliver_t*>(f.payload.method.decoded);
      s.tag = d->delivery_tag;
      s.redelivered = d->redelivered;
      s.consumer_tag = text(d->consumer_tag);
      s.exchange = text(d->exchange);
      s.routing_key = text(d->routing_key);
    }
  } else if (f.frame_type == AMQP_FRAME_HEADER) {
    const auto* p = static_cast<const amqp_basic_properties_t*>(f.payload.properties.decoded);
    s.body_size = f.payload.properties.body_size;
    s.flags = p->_flags;
    const std::pair<amqp_flags_t, const amqp_bytes_t*> strings[] = {
      {AMQP_BASIC_CONTENT_TYPE_FLAG, &p->content_type},   {AMQP_BASIC_CONTENT_ENCODING_FLAG, &p->content_encoding},
      {AMQP_BASIC_CORRELATION_ID_FLAG, &p->correlation_id}, {AMQP_BASIC_REPLY_TO_FLAG, &p->reply_to},
      {AMQP_BASIC_EXPIRATION_FLAG, &p->expiration},       {AMQP_BASIC_MESSAGE_ID_FLAG, &p->message_id},
      {AMQP_BASIC_TYPE_FLAG, &p->type},                   {AMQP_BASIC_USER_ID_FLAG, &p->user_id},
      {AMQP_BASIC_APP_ID_FLAG, &p->app_id},               {AMQP_BASIC_CLUSTER_ID_FLAG, &p->cluster_id}};
    for (const auto& [flag, value] : strings)
      if (p->_flags & flag)
        s.strings.emplace_back(text(*value));
    if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
      s.delivery_mode = p->delivery_mode;
    if (p->_flags & AMQP_BASIC_PRIORITY_FLAG)
      s.priority = p->priority;
    if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
      s.timestamp = p->timestamp;
    if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
      s.content_type = text(p->content_type);
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
      s.message_id = text(p->message_id);
    if ((p->_flags & AMQP_BASIC_HEADERS_FLAG) && p->headers.num_entries > 0) {
      s.header_key = text(p->headers.entries[0].key);
      if (p->headers.entries[0].value.kind == AMQP_FIELD_KIND_I64)  // other kinds leave bytes unset
        s.header_value = p->headers.entries[0].value.value.i64;
    }
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
      for (int i = 0; i < p->headers.num_entries; ++i)
        s.headers.push_back(std::string(text(p->headers.entries[i].key)) + "=" + describe(p->headers.entries[i].value));
  } else if (f.frame_type == AMQP_FRAME_BODY) {
    s.body = std::string(text(f.payload.body_fragment));
  }
  return s;
}

// A rabbitmq-c connection state between frames, as after login, that reads nothing itself.
struct library {
  std::unique_ptr<amqp_connection_state_t_, int (*)(amqp_connection_state_t)> state{amqp_new_connection(),
                                                                                    amqp_destroy_connection};
  library() {
    const char protocol[] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    amqp_frame_t f;
    REQUIRE(amqp_handle_input(state.get(), amqp_bytes_t{8, const_cast<char*>(protocol)}, &f) == 8);
    REQUIRE(f.frame_type == 'A');  // rabbitmq-c's private AMQP_PSEUDOFRAME_PROTOCOL_HEADER
    REQUIRE(amqp_tune_connection(state.get(), 0, static_cast<int>(frame_max), 0) == AMQP_STATUS_OK);
  }
  // Feeds `bytes` from the start; the frames completed, copied.
  std::vector<seen> feed(amqp_bytes_t& bytes) {
    std::vector<seen> out;
    while (bytes.len > 0) {
      amqp_frame_t f;
      int used = amqp_handle_input(state.get(), bytes, &f);
      REQUIRE(used > 0);
      bytes.bytes = static_cast<char*>(bytes.bytes) + used;
      bytes.len -= static_cast<std::size_t>(used);
      if (f.frame_type != 0)
        out.push_back(copy(f));
      amqp_maybe_release_buffers(state.get());
      if (amqp_release_buffers_ok(state.get()) && f.frame_type != 0)
        break;  // one frame a call, as the connection feeds it
    }
    return out;
  }
};

struct message_properties {
  amqp_table_entry_t entry{};
  amqp_basic_properties_t props{};
  message_properties() {
    entry.key = view("x-count");
    entry.value.kind = AMQP_FIELD_KIND_I64;
    entry.value.value.i64 = 3;
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
    props.content_type = view("application/json");
    props.headers = amqp_table_t{1, &entry};
    props.delivery_mode = 2;
    props.message_id = view("msg-42");
    props.timestamp = 1700000000;
  }
};

// Every basic property but the headers table: the properties the reader decodes itself.
struct plain_properties {
  amqp_basic_properties_t props{};
  plain_properties() {
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG |
                   AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
                   AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_USER_ID_FLAG | AMQP_BASIC_APP_ID_FLAG |
                   AMQP_BASIC_CLUSTER_ID_FLAG;
    props.content_type = view("application/json");
    props.content_encoding = view("identity");
    props.delivery_mode = 2;
    props.priority = 7;
    props.correlation_id = view("corr-9");
    props.reply_to = view("amq.rabbitmq.reply-to");
    props.expiration = view("60000");
    props.message_id = view("msg-43");
    props.timestamp = 1800000000;
    props.type = view("reading");
    props.user_id = view("guest");
    props.app_id = view("sensors");
    props.cluster_id = view("");
  }
};

// Headers of every kind of value a table can hold without nesting; `nested` adds a table
// inside the table and an array (decoded by rabbitmq-c).
struct every_kind_headers {
  std::vector<amqp_table_entry_t> entries;
  amqp_table_entry_t inner{};
  amqp_field_value_t items[2]{};
  amqp_basic_properties_t props{};
  explicit every_kind_headers(bool nested) {
    auto add = [&](const char* key, std::uint8_t kind, auto set) {
      amqp_table_entry_t e{};
      e.key = view(key);
      e.value.kind = kind;
      set(e.value.value);
      entries.push_back(e);
    };
    add("sensor_key", AMQP_FIELD_KIND_UTF8, [](auto& v) { v.bytes = view("1/2/3"); });
    add("t", AMQP_FIELD_KIND_BOOLEAN, [](auto& v) { v.boolean = 1; });
    add("b", AMQP_FIELD_KIND_I8, [](auto& v) { v.i8 = -3; });
    add("B", AMQP_FIELD_KIND_U8, [](auto& v) { v.u8 = 250; });
    add("s", AMQP_FIELD_KIND_I16, [](auto& v) { v.i16 = -300; });
    add("u", AMQP_FIELD_KIND_U16, [](auto& v) { v.u16 = 60000; });
    add("I", AMQP_FIELD_KIND_I32, [](auto& v) { v.i32 = -70000; });
    add("i", AMQP_FIELD_KIND_U32, [](auto& v) { v.u32 = 4000000000U; });
    add("l", AMQP_FIELD_KIND_I64, [](auto& v) { v.i64 = -5000000000; });
    add("L", AMQP_FIELD_KIND_U64, [](auto& v) { v.u64 = 10000000000000000000ULL; });
    add("f", AMQP_FIELD_KIND_F32, [](auto& v) { v.f32 = 1.5F; });
    add("d", AMQP_FIELD_KIND_F64, [](auto& v) { v.f64 = -2.25; });
    add("D", AMQP_FIELD_KIND_DECIMAL, [](auto& v) { v.decimal = amqp_decimal_t{2, 12345}; });
    add("x", AMQP_FIELD_KIND_BYTES, [](auto& v) { v.bytes = view(std::string_view("\0\1\2", 3)); });
    add("T", AMQP_FIELD_KIND_TIMESTAMP, [](auto& v) { v.u64 = 1700000000; });
    add("V", AMQP_FIELD_KIND_VOID, [](auto&) {});
    if (nested) {
      inner.key = view("inner");
      inner.value.kind = AMQP_FIELD_KIND_I64;
      inner.value.value.i64 = 7;
      add("F", AMQP_FIELD_KIND_TABLE, [&](auto& v) { v.table = amqp_table_t{1, &inner}; });
      items[0].kind = AMQP_FIELD_KIND_UTF8;
      items[0].value.bytes = view("a");
      items[1].kind = AMQP_FIELD_KIND_I32;
      items[1].value.i32 = 9;
      add("A", AMQP_FIELD_KIND_ARRAY, [&](auto& v) { v.array = amqp_array_t{2, items}; });
    }
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_MESSAGE_ID_FLAG;
    props.content_type = view("application/json");
    props.headers = amqp_table_t{static_cast<int>(entries.size()), entries.data()};
    props.delivery_mode = 2;
    props.message_id = view("msg-44");
  }
};

// Deliveries on two channels (properties with headers, every other property, none, only a
// message id), one body in three frames, a heartbeat and a frame of an unknown type between
// them, and a channel.close.
inline std::string a_stream() {
  static message_properties full;
  static plain_properties plain;
  static amqp_basic_properties_t bare{};
  static amqp_basic_properties_t id_only = [] {
    amqp_basic_properties_t p{};
    p._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
    p.message_id = view("msg-5");
    return p;
  }();
  static every_kind_headers flat(false);
  static every_kind_headers nested(true);
  amqp_basic_properties_t* props[] = {&full.props, &plain.props, &bare, &id_only, &flat.props, &nested.props};
  std::string out;
  for (std::uint64_t tag = 1; tag <= 6; ++tag)
    out += deliver_frames(tag % 2 ? 1 : 2, tag, R"({"sensor":"s-)" + std::to_string(tag) + R"(","value":21.5})",
                          props[tag - 1]);
  out += frame_bytes(AMQP_FRAME_HEARTBEAT, 0, "");
  out += frame_bytes(42, 0, "ignored");
  out += deliver_frames(1, 7, std::string(300, 'x') + "end", &full.props, 128);
  amqp_channel_close_t close{};
  close.reply_code = 404;
  close.reply_text = view("NOT_FOUND - no queue 'q'");
  close.class_id = 50;
  close.method_id = 10;
  out += method_frame(2, AMQP_CHANNEL_CLOSE_METHOD, &close);
  return out;
}

// Every frame rabbitmq-c decodes from `stream`, fed to it as the connection feeds it.
inline std::vector<seen> library_frames(const std::string& stream) {
  library lib;
  amqp_bytes_t rest = view(stream);
  std::vector<seen> out;
  while (rest.len > 0)
    for (auto& s : lib.feed(rest))
      out.push_back(s);
  return out;
}

inline std::vector<seen> decode_all(frame_reader& reader) {
  std::vector<seen> out;
  amqp_frame_t f;
  int rc;
  while ((rc = reader.next(f, frame_max)) == 1)
    out.push_back(copy(f));
  REQUIRE(rc == 0);
  return out;
}


// What rabbitmq-c's own decoders make of a payload: their status and the frame as `copy` sees it.
inline std::pair<int, seen> library_decoding(std::uint8_t type, const std::string& payload) {
  amqp_pool_t pool;
  init_amqp_pool(&pool, 4096);
  amqp_frame_t f{};
  f.frame_type = type;
  int rc;
  if (type == AMQP_FRAME_METHOD) {
    f.payload.method.id = AMQP_BASIC_DELIVER_METHOD;
    rc = amqp_decode_method(f.payload.method.id, &pool, view(payload), &f.payload.method.decoded);
  } else {
    f.payload.properties.class_id = AMQP_BASIC_CLASS;
    rc = amqp_decode_properties(AMQP_BASIC_CLASS, &pool, view(payload), &f.payload.properties.decoded);
  }
  seen s = rc == 0 ? copy(f) : seen{};
  empty_amqp_pool(&pool);
  return {rc, s};
}

} // namespace wire_test
