#include "causeway/amqp/frame_reader.hpp"

#include <amqp_framing.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <vector>

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
// Header entries whose room is kept from one frame to the next; a larger table (a frame of
// 128 KiB can hold 65,536 empty entries, 2.6 MB of them) gives its room back.
constexpr std::size_t kept_header_entries = 64;

std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t load32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::uint64_t load64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load32(p)} << 32) | load32(p + 4);
}

// A method's arguments or a content header's properties, read front to back; every read checks
// its bounds as rabbitmq-c's decoders do (amqp_decode_8/16/32/64, amqp_decode_bytes).
class field_cursor {
public:
  explicit field_cursor(amqp_bytes_t encoded) noexcept
    : at_(static_cast<const std::uint8_t*>(encoded.bytes)), left_(encoded.len) {}

  /// An unsigned integer of sizeof(T) octets, most significant first.
  template <class T>
  bool number(T& out) noexcept {
    static_assert(std::is_unsigned_v<T>);
    if (left_ < sizeof(T))
      return false;
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      value = static_cast<T>((std::uint64_t{value} << 8) | at_[i]);
    out = value;
    skip(sizeof(T));
    return true;
  }
  /// `len` bytes: a view of them.
  bool bytes(std::size_t len, amqp_bytes_t& out) noexcept {
    if (left_ < len)
      return false;
    out = amqp_bytes_t{len, const_cast<std::uint8_t*>(at_)};
    skip(len);
    return true;
  }
  /// A short string (one length octet).
  bool shortstr(amqp_bytes_t& out) noexcept {
    std::uint8_t len = 0;
    return number(len) && bytes(len, out);
  }
  std::size_t left() const noexcept { return left_; }

private:
  void skip(std::size_t n) noexcept {
    at_ += n;
    left_ -= n;
  }

  const std::uint8_t* at_;
  std::size_t left_;
};

// basic.deliver: consumer-tag, delivery-tag, redelivered (bit 0 of an octet), exchange,
// routing-key. Bytes after them are ignored, as rabbitmq-c ignores them.
bool decode_deliver(amqp_bytes_t encoded, amqp_basic_deliver_t& out) noexcept {
  field_cursor in{encoded};
  std::uint8_t bits = 0;
  if (!in.shortstr(out.consumer_tag) || !in.number(out.delivery_tag) || !in.number(bits))
    return false;
  out.redelivered = (bits & 1) != 0;
  return in.shortstr(out.exchange) && in.shortstr(out.routing_key);
}

enum class decoded { ok, malformed, nested };

// One value of a field table, as rabbitmq-c's amqp_decode_field_value decodes it (the same
// union member for each kind), but a nested table or array, which rabbitmq-c decodes.
decoded decode_flat_value(field_cursor& in, amqp_field_value_t& v) noexcept {
  if (!in.number(v.kind))
    return decoded::malformed;
  bool ok = true;
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN: {
      std::uint8_t b = 0;
      ok = in.number(b);
      v.value.boolean = b != 0;
      break;
    }
    case AMQP_FIELD_KIND_I8:
    case AMQP_FIELD_KIND_U8:
      ok = in.number(v.value.u8);  // i8 shares its byte
      break;
    case AMQP_FIELD_KIND_I16:
    case AMQP_FIELD_KIND_U16:
      ok = in.number(v.value.u16);
      break;
    case AMQP_FIELD_KIND_I32:
    case AMQP_FIELD_KIND_U32:
    case AMQP_FIELD_KIND_F32:  // the float's bits, as rabbitmq-c puns them
      ok = in.number(v.value.u32);
      break;
    case AMQP_FIELD_KIND_I64:
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_F64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      ok = in.number(v.value.u64);
      break;
    case AMQP_FIELD_KIND_DECIMAL:
      ok = in.number(v.value.decimal.decimals) && in.number(v.value.decimal.value);
      break;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: {
      std::uint32_t len = 0;
      ok = in.number(len) && in.bytes(len, v.value.bytes);
      break;
    }
    case AMQP_FIELD_KIND_VOID:
      break;
    case AMQP_FIELD_KIND_ARRAY:
    case AMQP_FIELD_KIND_TABLE:
      return decoded::nested;
    default:
      return decoded::malformed;
  }
  return ok ? decoded::ok : decoded::malformed;
}

// A field table of flat values into `entries`, as rabbitmq-c's amqp_decode_table reads it:
// entries while the table's size lasts, each read within the whole payload (a value may run
// past the table's end; rabbitmq-c then reads on from there).
decoded decode_flat_table(field_cursor& in, std::vector<amqp_table_entry_t>& entries) {
  entries.clear();
  std::uint32_t size = 0;
  if (!in.number(size) || size > in.left())
    return decoded::malformed;
  const std::size_t end_left = in.left() - size;  // what is left once the table is read
  while (in.left() > end_left) {
    amqp_table_entry_t& e = entries.emplace_back();
    if (!in.shortstr(e.key))
      return decoded::malformed;
    if (const auto d = decode_flat_value(in, e.value); d != decoded::ok)
      return d;
  }
  return decoded::ok;
}

/// Basic properties with one flag word (bit 0, "more flags", clear): the ones this reader
/// decodes itself, but for a headers table with a nested table or array.
bool has_one_flag_word(std::uint16_t class_id, amqp_bytes_t encoded) noexcept {
  return class_id == AMQP_BASIC_CLASS && encoded.len >= 2 &&
         (load16(static_cast<const std::uint8_t*>(encoded.bytes)) & 1) == 0;
}

// The properties in the order of their flags, from the highest bit down (AMQP 0-9-1, 4.2.6.1).
decoded decode_basic_properties(amqp_bytes_t encoded, amqp_basic_properties_t& p,
                                std::vector<amqp_table_entry_t>& headers) {
  field_cursor in{encoded};
  std::uint16_t flags = 0;
  in.number(flags);  // has_one_flag_word saw it
  p._flags = flags;
  auto str = [&](amqp_flags_t flag, amqp_bytes_t& out) { return (flags & flag) == 0 || in.shortstr(out); };
  auto octet = [&](amqp_flags_t flag, std::uint8_t& out) { return (flags & flag) == 0 || in.number(out); };
  if (!str(AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type) || !str(AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding))
    return decoded::malformed;
  if (flags & AMQP_BASIC_HEADERS_FLAG) {
    if (const auto d = decode_flat_table(in, headers); d != decoded::ok)
      return d;
    p.headers = amqp_table_t{static_cast<int>(headers.size()), headers.data()};
  }
  const bool ok =
    octet(AMQP_BASIC_DELIVERY_MODE_FLAG, p.delivery_mode) && octet(AMQP_BASIC_PRIORITY_FLAG, p.priority) &&
    str(AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id) && str(AMQP_BASIC_REPLY_TO_FLAG, p.reply_to) &&
    str(AMQP_BASIC_EXPIRATION_FLAG, p.expiration) && str(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id) &&
    ((flags & AMQP_BASIC_TIMESTAMP_FLAG) == 0 || in.number(p.timestamp)) && str(AMQP_BASIC_TYPE_FLAG, p.type) &&
    str(AMQP_BASIC_USER_ID_FLAG, p.user_id) && str(AMQP_BASIC_APP_ID_FLAG, p.app_id) &&
    str(AMQP_BASIC_CLUSTER_ID_FLAG, p.cluster_id);
  return ok ? decoded::ok : decoded::malformed;
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
  if (headers_.capacity() > kept_header_entries)
    std::vector<amqp_table_entry_t>{}.swap(headers_);
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
        if (frame.payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
          if (!decode_deliver(encoded, deliver_))
            return AMQP_STATUS_BAD_AMQP_DATA;
          frame.payload.method.decoded = &deliver_;
          break;
        }
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
        if (has_one_flag_word(frame.payload.properties.class_id, encoded)) {
          const auto d = decode_basic_properties(encoded, properties_, headers_);
          if (d == decoded::malformed)
            return AMQP_STATUS_BAD_AMQP_DATA;
          if (d == decoded::ok) {
            frame.payload.properties.decoded = &properties_;
            break;
          }
        }
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
