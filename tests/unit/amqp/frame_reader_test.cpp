#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/frame_reader.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace causeway::amqp::detail;
using causeway::amqp::text;
using causeway::amqp::view;

namespace {

constexpr std::size_t frame_max = 131072;

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}

std::string frame_bytes(std::uint8_t type, std::uint16_t channel, const std::string& payload) {
  std::string out;
  out.push_back(static_cast<char>(type));
  put16(out, channel);
  put32(out, static_cast<std::uint32_t>(payload.size()));
  out += payload;
  out.push_back(static_cast<char>(AMQP_FRAME_END));
  return out;
}

// Frames encoded by rabbitmq-c's own public encoders.
std::string method_frame(std::uint16_t channel, amqp_method_number_t id, void* method) {
  std::string payload(4096, '\0');
  int n = amqp_encode_method(id, method, amqp_bytes_t{payload.size(), payload.data()});
  REQUIRE(n >= 0);
  payload.resize(static_cast<std::size_t>(n));
  std::string ids;
  put32(ids, id);
  return frame_bytes(AMQP_FRAME_METHOD, channel, ids + payload);
}

std::string header_frame(std::uint16_t channel, std::uint64_t body_size, amqp_basic_properties_t* props) {
  std::string encoded(4096, '\0');
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

std::string deliver_frames(std::uint16_t channel, std::uint64_t tag, const std::string& body,
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
  std::string body;

  bool operator==(const seen&) const = default;
};

seen copy(const amqp_frame_t& f) {
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
      s.header_value = p->headers.entries[0].value.value.i64;
    }
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

// Deliveries on two channels (properties with headers, every other property, none, only a
// message id), one body in three frames, a heartbeat and a frame of an unknown type between
// them, and a channel.close.
std::string a_stream() {
  static message_properties full;
  static plain_properties plain;
  static amqp_basic_properties_t bare{};
  static amqp_basic_properties_t id_only = [] {
    amqp_basic_properties_t p{};
    p._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
    p.message_id = view("msg-5");
    return p;
  }();
  amqp_basic_properties_t* props[] = {&full.props, &plain.props, &bare, &id_only, &full.props};
  std::string out;
  for (std::uint64_t tag = 1; tag <= 5; ++tag)
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

std::vector<seen> decode_all(frame_reader& reader) {
  std::vector<seen> out;
  amqp_frame_t f;
  int rc;
  while ((rc = reader.next(f, frame_max)) == 1)
    out.push_back(copy(f));
  REQUIRE(rc == 0);
  return out;
}

} // namespace

TEST_CASE("the frame reader decodes what rabbitmq-c decodes, frame for frame") {
  const std::string stream = a_stream();
  library lib;
  amqp_bytes_t rest = view(stream);
  std::vector<seen> expected;
  while (rest.len > 0)
    for (auto& s : lib.feed(rest))
      expected.push_back(s);
  REQUIRE(expected.size() == 5 * 3 + 1 + 2 + 3 + 1);  // the unknown frame is skipped by both
  CHECK(expected[0].tag == 1);
  CHECK(expected[1].message_id == "msg-42");
  CHECK(expected[1].header_key == "x-count");
  CHECK(expected[1].header_value == 3);
  CHECK(expected[4].strings.size() == 10);  // delivery 2: every property but the headers
  CHECK(expected[4].strings.back().empty());
  CHECK(expected[4].delivery_mode == 2);
  CHECK(expected[4].priority == 7);
  CHECK(expected[4].timestamp == 1800000000);
  CHECK(expected[7].flags == 0);  // delivery 3 has no properties
  CHECK(expected[10].message_id == "msg-5");

  frame_reader reader;
  reader.append(stream.data(), stream.size());
  CHECK(decode_all(reader) == expected);
  CHECK(reader.empty());
}

TEST_CASE("a stream cut anywhere, its cut frame finished by rabbitmq-c, comes out whole and in order") {
  const std::string stream = a_stream();
  frame_reader whole;
  whole.append(stream.data(), stream.size());
  const auto expected = decode_all(whole);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    CAPTURE(cut);
    library lib;
    frame_reader reader;
    // The first read: decoded here, the cut frame handed over (connection_io: hand_over_unread).
    reader.append(stream.data(), cut);
    auto got = decode_all(reader);
    amqp_bytes_t tail = reader.unread();
    REQUIRE(lib.feed(tail).empty());
    REQUIRE(tail.len == 0);
    reader.consume(reader.unread().len);
    // The second read: rabbitmq-c's frame first, then the rest decoded here.
    reader.append(stream.data() + cut, stream.size() - cut);
    while (!amqp_release_buffers_ok(lib.state.get())) {
      amqp_bytes_t more = reader.unread();
      const std::size_t before = more.len;
      for (auto& s : lib.feed(more))
        got.push_back(s);
      reader.consume(before - more.len);
    }
    for (auto& s : decode_all(reader))
      got.push_back(s);
    REQUIRE(got == expected);
  }
}

TEST_CASE("a malformed frame is refused and nothing of it consumed") {
  amqp_frame_t f;
  SUBCASE("no frame-end octet") {
    std::string bytes = frame_bytes(AMQP_FRAME_BODY, 1, "abc");
    bytes.back() = 0;
    frame_reader reader;
    reader.append(bytes.data(), bytes.size());
    CHECK(reader.next(f, frame_max) == AMQP_STATUS_BAD_AMQP_DATA);
    CHECK(reader.unread().len == bytes.size());
  }
  SUBCASE("longer than frame_max, header and end counted") {
    std::string bytes = frame_bytes(AMQP_FRAME_BODY, 1, std::string(4089, 'a'));  // 4097 in all
    frame_reader reader;
    reader.append(bytes.data(), 7);  // refused from its header alone
    CHECK(reader.next(f, 4096) == AMQP_STATUS_BAD_AMQP_DATA);
    reader.append(bytes.data() + 7, bytes.size() - 7);
    CHECK(reader.next(f, 4097) == 1);
  }
  SUBCASE("a method frame too short for its ids, a header frame too short for its prefix") {
    for (std::uint8_t type : {std::uint8_t{AMQP_FRAME_METHOD}, std::uint8_t{AMQP_FRAME_HEADER}}) {
      std::string bytes = frame_bytes(type, 1, "abc");
      frame_reader reader;
      reader.append(bytes.data(), bytes.size());
      CHECK(reader.next(f, frame_max) == AMQP_STATUS_BAD_AMQP_DATA);
    }
  }
  SUBCASE("a method rabbitmq-c does not know") {
    std::string bytes = frame_bytes(AMQP_FRAME_METHOD, 1, std::string("\x00\x63\x00\x01", 4));
    frame_reader reader;
    reader.append(bytes.data(), bytes.size());
    CHECK(reader.next(f, frame_max) == AMQP_STATUS_UNKNOWN_METHOD);
    CHECK(reader.unread().len == bytes.size());
  }
  SUBCASE("the start of a frame is no frame yet") {
    std::string bytes = frame_bytes(AMQP_FRAME_BODY, 1, "abc");
    frame_reader reader;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CHECK(reader.next(f, frame_max) == 0);
      reader.append(bytes.data() + n, 1);
    }
    REQUIRE(reader.next(f, frame_max) == 1);
    CHECK(text(f.payload.body_fragment) == "abc");
  }
}

namespace {

// What rabbitmq-c's own decoders make of a payload: their status and the frame as `copy` sees it.
std::pair<int, seen> library_decoding(std::uint8_t type, const std::string& payload) {
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

} // namespace

TEST_CASE("a basic.deliver and header-less properties cut short anywhere are refused as rabbitmq-c refuses them") {
  static plain_properties plain;
  amqp_basic_deliver_t deliver{};
  deliver.consumer_tag = view("ctag-1");
  deliver.delivery_tag = 0x0102030405060708;
  deliver.redelivered = 1;
  deliver.exchange = view("readings");
  deliver.routing_key = view("sensor-3");
  const std::string method = method_frame(1, AMQP_BASIC_DELIVER_METHOD, &deliver);
  const std::string header = header_frame(1, 17, &plain.props);
  // The arguments after the method ids; the properties after class, weight and body size.
  const std::tuple<std::uint8_t, std::string, std::string> frames[] = {
    {AMQP_FRAME_METHOD, method.substr(11, method.size() - 12), method.substr(7, 4)},
    {AMQP_FRAME_HEADER, header.substr(19, header.size() - 20), header.substr(7, 12)}};
  for (const auto& [type, args, prefix] : frames) {
    for (std::size_t keep = 0; keep <= args.size() + 1; ++keep) {
      CAPTURE(int{type});
      CAPTURE(keep);
      // One byte more than the arguments: a trailing byte, ignored by both.
      const std::string cut = keep <= args.size() ? args.substr(0, keep) : args + "x";
      const auto [library_rc, library_seen] = library_decoding(type, cut);
      frame_reader reader;
      const std::string bytes = frame_bytes(type, 1, prefix + cut);
      reader.append(bytes.data(), bytes.size());
      amqp_frame_t f;
      const int rc = reader.next(f, frame_max);
      if (library_rc < 0) {
        CHECK(rc == library_rc);
        CHECK(reader.unread().len == bytes.size());
      } else {
        REQUIRE(rc == 1);
        seen ours = copy(f);
        ours.channel = 0;
        ours.body_size = 0;
        CHECK(ours == library_seen);
      }
    }
  }
}

TEST_CASE("the frame reader reads a socket once, without waiting") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  frame_reader reader(4096);
  CHECK(reader.receive(fds[0]) == 0);  // nothing there yet
  const std::string bytes = a_stream();
  REQUIRE(::write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  std::size_t read = 0;
  while (read < bytes.size()) {
    int n = reader.receive(fds[0]);
    REQUIRE(n > 0);
    read += static_cast<std::size_t>(n);
  }
  frame_reader whole;
  whole.append(bytes.data(), bytes.size());
  CHECK(decode_all(reader) == decode_all(whole));
  ::close(fds[1]);
  CHECK(reader.receive(fds[0]) == AMQP_STATUS_CONNECTION_CLOSED);
  ::close(fds[0]);
  CHECK(reader.receive(fds[0]) == AMQP_STATUS_SOCKET_ERROR);
  CHECK(reader.error_number() == EBADF);
}

TEST_CASE("a malformed frame after skipped ones gives those back too: an error consumes nothing") {
  // Found by the fuzz target: a frame of an unknown type, skipped, then one without its end.
  std::string bad = frame_bytes(AMQP_FRAME_BODY, 1, "abc");
  bad.back() = 0;
  const std::string bytes = frame_bytes(42, 0, "ignored") + bad;
  frame_reader reader;
  reader.append(bytes.data(), bytes.size());
  amqp_frame_t f;
  CHECK(reader.next(f, frame_max) == AMQP_STATUS_BAD_AMQP_DATA);
  CHECK(reader.unread().len == bytes.size());
}
