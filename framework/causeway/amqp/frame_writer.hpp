// frame_writer.hpp — many basic.publish commands laid out as AMQP frames in one buffer, and
// that buffer written to the connection's socket.
//
// rabbitmq-c 0.11 sends each publish as three send() calls (method, content header and body
// frames): at ten thousand messages a second those syscalls are most of the publisher's CPU.
// `frame_buffer` encodes the same bytes amqp_basic_publish would send, for as many messages as
// we like, and `write_all` hands them to the kernel with as few send() calls as it takes (one
// while the socket has room). Encoding is pure (no socket, no rabbitmq-c state) so tests can
// compare it with rabbitmq-c's own output and decoders.
#pragma once

#include <amqp.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::amqp::detail {

/// One basic.publish, as amqp_basic_publish takes it. Views: valid for the append call only.
struct basic_publish {
  amqp_channel_t channel = 0;
  std::string_view exchange;
  std::string_view routing_key;
  bool mandatory = false;
  const amqp_basic_properties_t* properties = nullptr;  ///< null: no properties
  std::string_view body;
};

/// A growing run of AMQP frames, ready to be written to a socket.
class frame_buffer {
public:
  /// Appends the frames of `publish`: the basic.publish method frame, the content header
  /// frame, then the body in frames of at most `frame_max` bytes each (no body frame for an
  /// empty body), byte for byte what amqp_basic_publish sends. `frame_max` is the connection's
  /// (amqp_get_frame_max), at least 4096. Returns AMQP_STATUS_OK, or a negative rabbitmq-c
  /// status and leaves the buffer as it was: AMQP_STATUS_BAD_AMQP_DATA for a name longer than
  /// 255 bytes, AMQP_STATUS_TABLE_TOO_BIG (or BAD_AMQP_DATA) for properties that do not fit in
  /// one frame, AMQP_STATUS_INVALID_PARAMETER for a `frame_max` below 4096.
  int append_publish(const basic_publish& publish, std::size_t frame_max);

  std::string_view bytes() const noexcept { return bytes_; }
  std::size_t size() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }
  /// Empties the buffer; it keeps its memory for the next run unless that grew past 4 MiB.
  void clear() noexcept;

private:
  std::string bytes_;
  std::vector<char> payload_;  // scratch: one method or header frame payload
};

/// Waits until the socket `fd` is ready for `events` (POLLIN, POLLOUT) or has an error:
/// AMQP_STATUS_OK; AMQP_STATUS_TIMEOUT after `timeout`; AMQP_STATUS_SOCKET_ERROR (errno).
int wait_socket(int fd, short events, std::chrono::milliseconds timeout);

/// Writes all of `bytes` to the non-blocking socket `fd` (MSG_NOSIGNAL), waiting with poll()
/// whenever the socket is full. Returns AMQP_STATUS_OK; AMQP_STATUS_TIMEOUT when the socket
/// took nothing for `stall_timeout`; AMQP_STATUS_SOCKET_ERROR with errno telling why. After a
/// failure an unknown prefix of `bytes` (perhaps half a frame) went out: the connection is
/// unusable and must be dropped.
int write_all(int fd, std::string_view bytes, std::chrono::milliseconds stall_timeout);

} // namespace causeway::amqp::detail
