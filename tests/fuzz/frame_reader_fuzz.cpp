// frame_reader_fuzz.cpp — libFuzzer target: any bytes from the broker's side of a plain TCP
// connection, read by frame_reader in pieces of any size.
//
// Input: 2 bytes of frame_max (4096 + the value, so 4096..69631), then pieces, each one byte
// of length (0..255) followed by that many bytes, appended to the reader one piece at a time,
// which decodes after every piece until it has no complete frame. Checked: a frame comes out
// with a type AMQP knows and a body within frame_max; an error consumes nothing and ends the
// input (as it ends the connection); every frame equals the one rabbitmq-c decodes from the
// same bytes (amqp_handle_input, fed as the connection feeds it a frame it began), field for
// field where the reader decodes it itself (basic.deliver, basic properties); and a
// method or content header the reader refuses, rabbitmq-c's decoders refuse too.
#include "causeway/amqp/frame_reader.hpp"

#include <amqp.h>
#include <amqp_framing.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace {

using causeway::amqp::detail::frame_reader;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "frame_reader invariant broken: %s\n", what);
    std::abort();
  }
}

bool same_bytes(amqp_bytes_t a, amqp_bytes_t b) {
  return a.len == b.len && (a.len == 0 || std::memcmp(a.bytes, b.bytes, a.len) == 0);
}

bool same_value(const amqp_field_value_t& a, const amqp_field_value_t& b);

bool same_table(const amqp_table_t& a, const amqp_table_t& b) {
  if (a.num_entries != b.num_entries)
    return false;
  for (int i = 0; i < a.num_entries; ++i)
    if (!same_bytes(a.entries[i].key, b.entries[i].key) || !same_value(a.entries[i].value, b.entries[i].value))
      return false;
  return true;
}

// The union member rabbitmq-c's amqp_decode_field_value sets for the kind.
bool same_value(const amqp_field_value_t& a, const amqp_field_value_t& b) {
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
    case AMQP_FIELD_KIND_BOOLEAN: return a.value.boolean == b.value.boolean;
    case AMQP_FIELD_KIND_I8: case AMQP_FIELD_KIND_U8: return a.value.u8 == b.value.u8;
    case AMQP_FIELD_KIND_I16: case AMQP_FIELD_KIND_U16: return a.value.u16 == b.value.u16;
    case AMQP_FIELD_KIND_I32: case AMQP_FIELD_KIND_U32: case AMQP_FIELD_KIND_F32: return a.value.u32 == b.value.u32;
    case AMQP_FIELD_KIND_I64: case AMQP_FIELD_KIND_U64: case AMQP_FIELD_KIND_F64: case AMQP_FIELD_KIND_TIMESTAMP:
      return a.value.u64 == b.value.u64;
    case AMQP_FIELD_KIND_DECIMAL:
      return a.value.decimal.decimals == b.value.decimal.decimals && a.value.decimal.value == b.value.decimal.value;
    case AMQP_FIELD_KIND_UTF8: case AMQP_FIELD_KIND_BYTES: return same_bytes(a.value.bytes, b.value.bytes);
    case AMQP_FIELD_KIND_TABLE: return same_table(a.value.table, b.value.table);
    case AMQP_FIELD_KIND_ARRAY:
      if (a.value.array.num_entries != b.value.array.num_entries)
        return false;
      for (int i = 0; i < a.value.array.num_entries; ++i)
        if (!same_value(a.value.array.entries[i], b.value.array.entries[i]))
          return false;
      return true;
    default: return true;  // void
  }
}

void require_same_deliver(const amqp_basic_deliver_t& ours, const amqp_basic_deliver_t& theirs) {
  require(ours.delivery_tag == theirs.delivery_tag, "delivery tag differs from rabbitmq-c's");
  require(ours.redelivered == theirs.redelivered, "redelivered differs from rabbitmq-c's");
  require(same_bytes(ours.consumer_tag, theirs.consumer_tag) && same_bytes(ours.exchange, theirs.exchange) &&
            same_bytes(ours.routing_key, theirs.routing_key),
          "a string of the basic.deliver differs from rabbitmq-c's");
}

void require_same_properties(const amqp_basic_properties_t& ours, const amqp_basic_properties_t& theirs) {
  require(ours._flags == theirs._flags, "property flags differ from rabbitmq-c's");
  const amqp_flags_t flags = ours._flags;
  const std::pair<amqp_flags_t, amqp_bytes_t amqp_basic_properties_t::*> strings[] = {
    {AMQP_BASIC_CONTENT_TYPE_FLAG, &amqp_basic_properties_t::content_type},
    {AMQP_BASIC_CONTENT_ENCODING_FLAG, &amqp_basic_properties_t::content_encoding},
    {AMQP_BASIC_CORRELATION_ID_FLAG, &amqp_basic_properties_t::correlation_id},
    {AMQP_BASIC_REPLY_TO_FLAG, &amqp_basic_properties_t::reply_to},
    {AMQP_BASIC_EXPIRATION_FLAG, &amqp_basic_properties_t::expiration},
    {AMQP_BASIC_MESSAGE_ID_FLAG, &amqp_basic_properties_t::message_id},
    {AMQP_BASIC_TYPE_FLAG, &amqp_basic_properties_t::type},
    {AMQP_BASIC_USER_ID_FLAG, &amqp_basic_properties_t::user_id},
    {AMQP_BASIC_APP_ID_FLAG, &amqp_basic_properties_t::app_id},
    {AMQP_BASIC_CLUSTER_ID_FLAG, &amqp_basic_properties_t::cluster_id}};
  for (const auto& [flag, member] : strings)
    if (flags & flag)
      require(same_bytes(ours.*member, theirs.*member), "a string property differs from rabbitmq-c's");
  if (flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
    require(ours.delivery_mode == theirs.delivery_mode, "delivery mode differs from rabbitmq-c's");
  if (flags & AMQP_BASIC_PRIORITY_FLAG)
    require(ours.priority == theirs.priority, "priority differs from rabbitmq-c's");
  if (flags & AMQP_BASIC_TIMESTAMP_FLAG)
    require(ours.timestamp == theirs.timestamp, "timestamp differs from rabbitmq-c's");
  if (flags & AMQP_BASIC_HEADERS_FLAG)
    require(same_table(ours.headers, theirs.headers), "headers differ from rabbitmq-c's");
}

// What the two decoders must agree on.
void require_same(const amqp_frame_t& ours, const amqp_frame_t& theirs) {
  require(ours.frame_type == theirs.frame_type, "frame type differs from rabbitmq-c's");
  require(ours.channel == theirs.channel, "channel differs from rabbitmq-c's");
  switch (ours.frame_type) {
    case AMQP_FRAME_METHOD:
      require(ours.payload.method.id == theirs.payload.method.id, "method differs from rabbitmq-c's");
      require((ours.payload.method.decoded == nullptr) == (theirs.payload.method.decoded == nullptr),
              "decoded method differs from rabbitmq-c's");
      if (ours.payload.method.id == AMQP_BASIC_DELIVER_METHOD)
        require_same_deliver(*static_cast<const amqp_basic_deliver_t*>(ours.payload.method.decoded),
                             *static_cast<const amqp_basic_deliver_t*>(theirs.payload.method.decoded));
      break;
    case AMQP_FRAME_HEADER:
      require(ours.payload.properties.class_id == theirs.payload.properties.class_id, "class differs");
      require(ours.payload.properties.body_size == theirs.payload.properties.body_size, "body size differs");
      require(same_bytes(ours.payload.properties.raw, theirs.payload.properties.raw), "properties differ");
      if (ours.payload.properties.class_id == AMQP_BASIC_CLASS)
        require_same_properties(*static_cast<const amqp_basic_properties_t*>(ours.payload.properties.decoded),
                                *static_cast<const amqp_basic_properties_t*>(theirs.payload.properties.decoded));
      break;
    case AMQP_FRAME_BODY:
      require(same_bytes(ours.payload.body_fragment, theirs.payload.body_fragment), "body differs");
      break;
    default:
      break;
  }
}

struct library {
  std::unique_ptr<amqp_connection_state_t_, int (*)(amqp_connection_state_t)> state{amqp_new_connection(),
                                                                                    amqp_destroy_connection};
  std::string stream;  // every byte the reader was given
  std::size_t fed = 0;

  explicit library(int frame_max) {
    const char protocol[] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    amqp_frame_t f;
    require(amqp_handle_input(state.get(), amqp_bytes_t{8, const_cast<char*>(protocol)}, &f) == 8,
            "rabbitmq-c did not take the protocol header");
    require(amqp_tune_connection(state.get(), 0, frame_max, 0) == AMQP_STATUS_OK, "tune failed");
  }

  // rabbitmq-c's next frame from the bytes after the last one it took.
  amqp_frame_t next() {
    amqp_maybe_release_buffers(state.get());
    for (;;) {
      require(fed < stream.size(), "rabbitmq-c ran out of bytes before the reader's frame");
      amqp_frame_t f;
      int used = amqp_handle_input(state.get(), amqp_bytes_t{stream.size() - fed, stream.data() + fed}, &f);
      require(used > 0, "rabbitmq-c refused a frame the reader took");
      fed += static_cast<std::size_t>(used);
      if (f.frame_type != 0)
        return f;
    }
  }
};

std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Whether rabbitmq-c refuses the first frame of `bytes` that is not skipped, as the reader
// did: a length past frame_max, a missing frame end, a method or content header too short for
// its ids (rabbitmq-c would read past it) or one its decoders refuse.
bool library_refuses(amqp_bytes_t bytes, std::size_t frame_max) {
  const auto* at = static_cast<const std::uint8_t*>(bytes.bytes);
  std::size_t left = bytes.len;
  for (;;) {
    require(left >= 7, "the reader refused less than a frame header");
    const std::size_t size = load32(at + 3);
    if (size + 8 > frame_max)
      return true;
    require(left >= size + 8, "the reader refused an incomplete frame");
    if (at[size + 7] != AMQP_FRAME_END)
      return true;
    amqp_pool_t pool;
    init_amqp_pool(&pool, 4096);
    void* decoded = nullptr;
    int rc = 0;
    switch (at[0]) {
      case AMQP_FRAME_METHOD:
        rc = size < 4 ? -1
                      : amqp_decode_method(load32(at + 7), &pool,
                                           amqp_bytes_t{size - 4, const_cast<std::uint8_t*>(at + 11)}, &decoded);
        break;
      case AMQP_FRAME_HEADER:
        rc = size < 12 ? -1
                       : amqp_decode_properties(static_cast<std::uint16_t>((at[7] << 8) | at[8]), &pool,
                                                amqp_bytes_t{size - 12, const_cast<std::uint8_t*>(at + 19)}, &decoded);
        break;
      case AMQP_FRAME_BODY:
      case AMQP_FRAME_HEARTBEAT:
        break;
      default:  // skipped by the reader
        empty_amqp_pool(&pool);
        at += size + 8;
        left -= size + 8;
        continue;
    }
    empty_amqp_pool(&pool);
    return rc < 0;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  const int frame_max = 4096 + ((data[0] << 8) | data[1]);
  library lib(frame_max);
  frame_reader reader(4096);
  std::size_t at = 2;
  while (at < size) {
    const std::size_t length = std::min<std::size_t>(data[at], size - at - 1);
    reader.append(data + at + 1, length);
    lib.stream.append(reinterpret_cast<const char*>(data + at + 1), length);
    at += 1 + length;
    for (;;) {
      const std::size_t unread = reader.unread().len;
      amqp_frame_t frame;
      const int rc = reader.next(frame, static_cast<std::size_t>(frame_max));
      if (rc == 0)
        break;
      if (rc < 0) {
        require(reader.unread().len == unread, "an error consumed bytes");
        require(library_refuses(reader.unread(), static_cast<std::size_t>(frame_max)),
                "the reader refused a frame rabbitmq-c takes");
        return 0;  // the connection ends here
      }
      require(rc == 1, "next returned neither a frame, nothing, nor an error");
      require(frame.frame_type == AMQP_FRAME_METHOD || frame.frame_type == AMQP_FRAME_HEADER ||
                frame.frame_type == AMQP_FRAME_BODY || frame.frame_type == AMQP_FRAME_HEARTBEAT,
              "a frame of a type AMQP does not have");
      require(reader.unread().len < unread, "a frame consumed nothing");
      if (frame.frame_type == AMQP_FRAME_BODY)
        require(frame.payload.body_fragment.len + 8 <= static_cast<std::size_t>(frame_max), "body past frame_max");
      require_same(frame, lib.next());
    }
  }
  return 0;
}
