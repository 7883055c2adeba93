#include "causeway/amqp/frame_reader.hpp"

#include <amqp_framing.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace causeway::amqp::detail {

namespace {

// A frame: type (1 byte), channel (2), payload size (4), payload, frame end (0xCE).
constexpr std::size_t frame_header_size = 7;
constexpr std::size_t frame_envelope = frame_header_size + 1;
constexpr std::uint8_t frame_end_octet = AMQP_FRAME_END;
// A method payload starts with its class and method ids (2 + 2); a content header payload with
// class id (2), weight (2) and body size (8), then the properties.
constexpr std::size_t method_ids_size = 4;
constexpr std::size_t content_header_prefix = 12;
// A receive into less free room than this makes room first.
constexpr std::size_t least_receive_room = 4096;
// The pool's page: a basic.deliver, its properties and a small headers table fit in one.
constexpr std::size_t decode_pool_page = 16 * 1024;

std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t load32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::uint64_t load64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load32(p)} << 32) | load32(p + 4);
}

} // namespace

frame_reader::frame_reader(std::size_t capacity) : buffer_(capacity), capacity_(capacity) {
  init_amqp_pool(&pool_, decode_pool_page);
}

frame_reader::~frame_reader() { empty_amqp_pool(&pool_); }

void frame_reader::make_room(std::size_t wanted) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (buffer_.size() - end_ < wanted && begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < wanted)
    buffer_.resize(end_ + wanted);
}

int frame_reader::receive(int fd) {
  // A buffer's worth of room, less what is unread; at least least_receive_room (a frame longer than
  // the buffer grows it).
  const std::size_t unread = end_ - begin_;
  make_room(std::max(least_receive_room, capacity_ - std::min(capacity_, unread)));
  for (;;) {
    const ssize_t n = ::recv(fd, buffer_.data() + end_, buffer_.size() - end_, MSG_DONTWAIT);
    if (n > 0) {
      end_ += static_cast<std::size_t>(n);
      return static_cast<int>(n);
    }
    if (n == 0)
      return AMQP_STATUS_CONNECTION_CLOSED;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    errno_ = errno;
    return AMQP_STATUS_SOCKET_ERROR;
  }
}

void frame_reader::append(const void* bytes, std::size_t size) {
  make_room(size);
  std::memcpy(buffer_.data() + end_, bytes, size);
  end_ += size;
}

int frame_reader::next(amqp_frame_t& frame, std::size_t frame_max) {
  if (pool_used_) {
    recycle_amqp_pool(&pool_);
    pool_used_ = false;
  }
  // Frames skipped before an error are given back with it: an error consumes nothing.
  const std::size_t start = begin_;
  const int rc = decode(frame, frame_max);
  if (rc < 0)
    begin_ = start;
  return rc;
}

int frame_reader::decode(amqp_frame_t& frame, std::size_t frame_max) {
  for (;;) {
    const std::size_t available = end_ - begin_;
    if (available < frame_header_size)
      return 0;
    std::uint8_t* raw = buffer_.data() + begin_;
    const std::uint32_t size = load32(raw + 3);
    // rabbitmq-c's own bounds: a length that cannot be a frame of this connection.
    if (size >= INT32_MAX || std::size_t{size} + frame_envelope > frame_max)
      return AMQP_STATUS_BAD_AMQP_DATA;
    const std::size_t total = std::size_t{size} + frame_envelope;
    if (available < total)
      return 0;
    if (raw[total - 1] != frame_end_octet)
      return AMQP_STATUS_BAD_AMQP_DATA;
    std::uint8_t* payload = raw + frame_header_size;
    frame.frame_type = raw[0];
    frame.channel = load16(raw + 1);
    switch (frame.frame_type) {
      case AMQP_FRAME_METHOD: {
        if (size < method_ids_size)
          return AMQP_STATUS_BAD_AMQP_DATA;
        frame.payload.method.id = load32(payload);
        amqp_bytes_t encoded{size - method_ids_size, payload + method_ids_size};
        pool_used_ = true;
        if (int rc = amqp_decode_method(frame.payload.method.id, &pool_, encoded, &frame.payload.method.decoded);
            rc < 0)
          return rc;
        break;
      }
      case AMQP_FRAME_HEADER: {
        if (size < content_header_prefix)
          return AMQP_STATUS_BAD_AMQP_DATA;
        frame.payload.properties.class_id = load16(payload);
        frame.payload.properties.body_size = load64(payload + 4);
        amqp_bytes_t encoded{size - content_header_prefix, payload + content_header_prefix};
        frame.payload.properties.raw = encoded;
        pool_used_ = true;
        if (int rc = amqp_decode_properties(frame.payload.properties.class_id, &pool_, encoded,
                                            &frame.payload.properties.decoded);
            rc < 0)
          return rc;
        break;
      }
      case AMQP_FRAME_BODY:
        frame.payload.body_fragment = amqp_bytes_t{size, payload};
        break;
      case AMQP_FRAME_HEARTBEAT:
        break;
      default:
        begin_ += total;  // a frame type of no AMQP 0-9-1 use: skipped, as rabbitmq-c does
        continue;
    }
    begin_ += total;
    return 1;
  }
}

void frame_reader::consume(std::size_t n) noexcept {
  begin_ += std::min(n, end_ - begin_);
  if (begin_ == end_)
    begin_ = end_ = 0;
}

void frame_reader::clear() noexcept {
  begin_ = end_ = 0;
  if (pool_used_) {
    recycle_amqp_pool(&pool_);
    pool_used_ = false;
  }
}

} // namespace causeway::amqp::detail
