#include "causeway/amqp/frame_writer.hpp"

#include "causeway/amqp/bytes.hpp"

#include <amqp_framing.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace causeway::amqp::detail {

namespace {

// A frame: type (1 byte), channel (2), payload size (4), payload, frame end (0xCE).
constexpr std::size_t frame_overhead = 8;
constexpr std::size_t min_frame_max = 4096;  // AMQP 0-9-1 frame-min-size
// A content header payload: class id (2), weight (2), body size (8), then the properties.
constexpr std::size_t header_prefix = 12;
constexpr std::size_t kept_capacity = std::size_t{4} << 20;

void put8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put16(std::string& out, std::uint16_t v) {
  put8(out, static_cast<std::uint8_t>(v >> 8));
  put8(out, static_cast<std::uint8_t>(v));
}

void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}

void put64(std::string& out, std::uint64_t v) {
  put32(out, static_cast<std::uint32_t>(v >> 32));
  put32(out, static_cast<std::uint32_t>(v));
}

void store32(char* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    at[i] = static_cast<char>(static_cast<std::uint8_t>(v >> (24 - 8 * i)));
}

void put_frame(std::string& out, std::uint8_t type, amqp_channel_t channel, std::string_view payload) {
  put8(out, type);
  put16(out, channel);
  put32(out, static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  put8(out, AMQP_FRAME_END);
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

} // namespace

int frame_buffer::append_publish(const basic_publish& publish, std::size_t frame_max) {
  if (frame_max < min_frame_max)
    return AMQP_STATUS_INVALID_PARAMETER;
  // Method and header payloads are encoded into scratch space (sized for the largest payload
  // a frame may carry) and only then appended; a failure cuts the buffer back to `start`.
  payload_.resize(frame_max - frame_overhead);
  const std::size_t start = bytes_.size();

  amqp_basic_publish_t method{};
  method.exchange = view(publish.exchange);
  method.routing_key = view(publish.routing_key);
  method.mandatory = publish.mandatory ? 1 : 0;
  store32(payload_.data(), AMQP_BASIC_PUBLISH_METHOD);
  int n = amqp_encode_method(AMQP_BASIC_PUBLISH_METHOD, &method,
                             amqp_bytes_t{payload_.size() - 4, payload_.data() + 4});
  if (n < 0)
    return n;
  put_frame(bytes_, AMQP_FRAME_METHOD, publish.channel,
            std::string_view(payload_.data(), 4 + static_cast<std::size_t>(n)));

  amqp_basic_properties_t none{};
  // amqp_encode_properties only reads the properties; it takes them as void*.
  void* properties = const_cast<amqp_basic_properties_t*>(publish.properties ? publish.properties : &none);
  n = amqp_encode_properties(AMQP_BASIC_CLASS, properties,
                             amqp_bytes_t{payload_.size() - header_prefix, payload_.data()});
  if (n < 0) {
    bytes_.resize(start);
    return n;
  }
  const std::size_t chunk = frame_max - frame_overhead;
  const std::size_t body_frames = (publish.body.size() + chunk - 1) / chunk;
  bytes_.reserve(bytes_.size() + frame_overhead + header_prefix + static_cast<std::size_t>(n) +
                 body_frames * frame_overhead + publish.body.size());
  put8(bytes_, AMQP_FRAME_HEADER);
  put16(bytes_, publish.channel);
  put32(bytes_, static_cast<std::uint32_t>(header_prefix + static_cast<std::size_t>(n)));
  put16(bytes_, AMQP_BASIC_CLASS);
  put16(bytes_, 0);  // weight
  put64(bytes_, publish.body.size());
  bytes_.append(payload_.data(), static_cast<std::size_t>(n));
  put8(bytes_, AMQP_FRAME_END);

  for (std::string_view rest = publish.body; !rest.empty();) {
    auto piece = rest.substr(0, chunk);
    put_frame(bytes_, AMQP_FRAME_BODY, publish.channel, piece);
    rest.remove_prefix(piece.size());
  }
  return AMQP_STATUS_OK;
}

void frame_buffer::clear() noexcept {
  if (bytes_.capacity() > kept_capacity)
    std::string().swap(bytes_);
  else
    bytes_.clear();
}

int wait_socket(int fd, short events, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pollfd p{fd, events, 0};
    int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready > 0)
      return AMQP_STATUS_OK;  // ready, or an error the next call reports
    if (ready == 0)
      return AMQP_STATUS_TIMEOUT;
    if (errno != EINTR)
      return AMQP_STATUS_SOCKET_ERROR;
  }
}

int write_all(int fd, std::string_view bytes, std::chrono::milliseconds stall_timeout) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {  // not for a stream socket and a non-empty buffer; never loop on it
      errno = EIO;
      return AMQP_STATUS_SOCKET_ERROR;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return AMQP_STATUS_SOCKET_ERROR;
    // Full: wait for room, as rabbitmq-c's own sends do (it polls too).
    if (int rc = wait_socket(fd, POLLOUT, stall_timeout); rc != AMQP_STATUS_OK)
      return rc;
  }
  return AMQP_STATUS_OK;
}

} // namespace causeway::amqp::detail
