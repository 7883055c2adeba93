// frame_reader.hpp — AMQP frames read from a plain TCP socket into one buffer and decoded
// where they lie.
//
// rabbitmq-c 0.11 copies every frame it reads into a pool (amqp_handle_input), finds the
// channel's pool in a hash table, and reads the clock for every frame its wait functions
// return: at twenty thousand deliveries a second, three frames each, that is most of what the
// library costs a consumer's thread. `frame_reader` takes what one recv() brings and decodes
// the complete frames in place: method and content header with rabbitmq-c's own public
// decoders (amqp_decode_method, amqp_decode_properties) into a pool of its own, a body frame
// as a view of the buffer. The counterpart of frame_writer.hpp, and like it pure apart from
// the one recv: tests compare it with rabbitmq-c's own decoding.
//
// The two frames every delivery starts with are decoded here without rabbitmq-c: a
// basic.deliver, and the properties of a content header when they have one flag word, their
// headers table included unless it nests a table or an array (rabbitmq-c decodes those, with
// an allocation per table). Their strings are views of the buffer, their fields checked
// exactly as rabbitmq-c checks them.
//
// A frame cut off by the end of a read is not kept here: the connection hands those bytes to
// rabbitmq-c (amqp_handle_input), so that an RPC in between reads on from the socket exactly
// where the frame goes on (connection_reads.cpp, read_pass).
#pragma once

#include <amqp.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace causeway::amqp::detail {

class frame_reader {
public:
  /// `capacity`: the most one receive takes (rabbitmq-c's own buffer is 128 KiB).
  explicit frame_reader(std::size_t capacity = std::size_t{128} << 10);
  ~frame_reader();
  frame_reader(const frame_reader&) = delete;
  frame_reader& operator=(const frame_reader&) = delete;

  /// Reads once from the socket `fd` without waiting, after what is unread. Returns the
  /// bytes read (> 0), 0 when nothing was there, AMQP_STATUS_CONNECTION_CLOSED when the peer
  /// closed, or AMQP_STATUS_SOCKET_ERROR (`error_number` says which).
  int receive(int fd);
  int error_number() const noexcept { return errno_; }

  /// Appends `bytes` as if received (tests).
  void append(const void* bytes, std::size_t size);

  /// Decodes the next complete frame into `frame`: 1; 0 when what is unread holds no complete
  /// frame (the start of one at most); or a negative rabbitmq-c status and nothing consumed:
  /// AMQP_STATUS_BAD_AMQP_DATA for a frame longer than `frame_max` (header and end included,
  /// as rabbitmq-c counts it), without its frame-end octet or too short for its type, or what
  /// amqp_decode_method / amqp_decode_properties return. Frames of an unknown type are
  /// skipped, as rabbitmq-c skips them. What `frame` points to (decoded method, properties,
  /// body) stays valid until the next call of next, receive, append, consume or clear.
  int next(amqp_frame_t& frame, std::size_t frame_max);

  /// What was read and not yet decoded.
  amqp_bytes_t unread() noexcept { return amqp_bytes_t{end_ - begin_, buffer_.data() + begin_}; }
  bool empty() const noexcept { return begin_ == end_; }
  /// Marks `n` unread bytes as taken elsewhere (by rabbitmq-c).
  void consume(std::size_t n) noexcept;
  void clear() noexcept;

private:
  void make_room(std::size_t wanted);
  int decode(amqp_frame_t& frame, std::size_t frame_max);

  std::vector<std::uint8_t> buffer_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  amqp_pool_t pool_{};  // decoded methods and properties of the last frame, but for
  amqp_basic_deliver_t deliver_{};        // a basic.deliver's,
  amqp_basic_properties_t properties_{};  // and basic properties,
  std::vector<amqp_table_entry_t> headers_;  // their flat headers table
  bool pool_used_ = false;
  int errno_ = 0;
};

} // namespace causeway::amqp::detail
