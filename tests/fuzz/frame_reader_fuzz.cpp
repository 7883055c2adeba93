// frame_reader_fuzz.cpp — libFuzzer target: any bytes from the broker's side of a plain TCP
// connection, read by frame_reader in pieces of any size.
//
// Input: 2 bytes of frame_max (4096 + the value, so 4096..69631), then pieces, each one byte
// of length (0..255) followed by that many bytes, appended to the reader one piece at a time,
// which decodes after every piece until it has no complete frame. Checked: a frame comes out
// with a type AMQP knows and a body within frame_max; an error consumes nothing and ends the
// input (as it ends the connection); and every frame equals the one rabbitmq-c decodes from
// the same bytes (amqp_handle_input, fed as the connection feeds it a frame it began).
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

// What the two decoders must agree on; the methods and properties are rabbitmq-c's own decoders
// on both sides, so their raw bytes stand for them.
void require_same(const amqp_frame_t& ours, const amqp_frame_t& theirs) {
  require(ours.frame_type == theirs.frame_type, "frame type differs from rabbitmq-c's");
  require(ours.channel == theirs.channel, "channel differs from rabbitmq-c's");
  switch (ours.frame_type) {
    case AMQP_FRAME_METHOD:
      require(ours.payload.method.id == theirs.payload.method.id, "method differs from rabbitmq-c's");
      require((ours.payload.method.decoded == nullptr) == (theirs.payload.method.decoded == nullptr),
              "decoded method differs from rabbitmq-c's");
      break;
    case AMQP_FRAME_HEADER:
      require(ours.payload.properties.class_id == theirs.payload.properties.class_id, "class differs");
      require(ours.payload.properties.body_size == theirs.payload.properties.body_size, "body size differs");
      require(same_bytes(ours.payload.properties.raw, theirs.payload.properties.raw), "properties differ");
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
