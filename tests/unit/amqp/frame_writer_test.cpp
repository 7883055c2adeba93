#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/frame_writer.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace causeway::amqp::detail;
using causeway::amqp::text;
using causeway::amqp::view;
using namespace std::chrono_literals;

namespace {



void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

struct socket_pair {
  int fds[2] = {-1, -1};
  socket_pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
  ~socket_pair() {
    for (int fd : fds)
      if (fd >= 0)
        ::close(fd);
  }
  // Everything the other end has written so far.
  std::string drain(int end) const {
    std::string out;
    char chunk[65536];
    for (;;) {
      ssize_t n = ::recv(fds[end], chunk, sizeof chunk, MSG_DONTWAIT);
      if (n <= 0)
        return out;
      out.append(chunk, static_cast<std::size_t>(n));
    }
  }
};

// rabbitmq-c's frame_max before login; amqp_tune_connection cannot change it afterwards.
constexpr std::size_t initial_frame_max = 65536;

// What rabbitmq-c itself sends for the same publish, read from the other end of a socket pair.
std::string rabbitmq_c_bytes(const basic_publish& p) {
  socket_pair pair;
  amqp_connection_state_t state = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(state);
  amqp_tcp_socket_set_sockfd(socket, pair.fds[0]);
  pair.fds[0] = -1;  // the connection closes it
  REQUIRE(amqp_get_frame_max(state) == static_cast<int>(initial_frame_max));
  int rc = amqp_basic_publish(state, p.channel, view(p.exchange), view(p.routing_key),
                              p.mandatory ? 1 : 0, 0, p.properties, view(p.body));
  std::string sent = pair.drain(1);
  amqp_destroy_connection(state);
  REQUIRE(rc == AMQP_STATUS_OK);
  return sent;
}

std::string encode(const basic_publish& p, std::size_t frame_max) {
  frame_buffer buffer;
  REQUIRE(buffer.append_publish(p, frame_max) == AMQP_STATUS_OK);
  return std::string(buffer.bytes());
}

struct frame {
  std::uint8_t type;
  std::uint16_t channel;
  std::string payload;
};

std::uint64_t big_endian(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s)
    v = (v << 8) | static_cast<std::uint8_t>(c);
  return v;
}

// Splits `bytes` into frames; fails the test on a malformed one.
std::vector<frame> frames_of(std::string_view bytes) {
  std::vector<frame> out;
  while (!bytes.empty()) {
    REQUIRE(bytes.size() >= 8);
    auto size = static_cast<std::size_t>(big_endian(bytes.substr(3, 4)));
    REQUIRE(bytes.size() >= 8 + size);
    REQUIRE(static_cast<std::uint8_t>(bytes[7 + size]) == AMQP_FRAME_END);
    out.push_back({static_cast<std::uint8_t>(bytes[0]), static_cast<std::uint16_t>(big_endian(bytes.substr(1, 2))),
                   std::string(bytes.substr(7, size))});
    bytes.remove_prefix(8 + size);
  }
  return out;
}

// A message with every property the publisher sets, headers included.
struct full_properties {
  amqp_table_entry_t entries[2] = {};
  amqp_basic_properties_t props{};

  full_properties() {
    entries[0].key = view("x-reason");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = view("threshold exceeded");
    entries[1].key = view("x-count");
    entries[1].value.kind = AMQP_FIELD_KIND_I64;
    entries[1].value.value.i64 = 3;
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_EXPIRATION_FLAG |
                   AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG;
    props.content_type = view("application/json");
    props.headers = amqp_table_t{2, entries};
    props.delivery_mode = 2;
    props.priority = 7;
    props.correlation_id = view("corr-1");
    props.expiration = view("60000");
    props.message_id = view("msg-42");
    props.timestamp = 1700000000;
    props.type = view("aggregate");
  }
};

} // namespace

TEST_CASE("a publish encodes to exactly the bytes amqp_basic_publish sends") {
  full_properties full;
  amqp_basic_properties_t persistent{};
  persistent._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  persistent.delivery_mode = 2;
  std::string big(150000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 7);
  const std::string_view body(big);
  struct row {
    const char* name;
    basic_publish publish;
  };
  const row rows[] = {
    {"every property", {5, "telluride", "aggregates", true, &full.props, R"({"sensor":"s-1"})"}},
    {"no properties, default exchange", {1, "", "q", false, nullptr, "x"}},
    {"empty body", {2, "ex", "rk", false, &persistent, ""}},
    {"body filling one frame", {3, "ex", "rk", false, &persistent, body.substr(0, initial_frame_max - 8)}},
    {"body one byte over a frame", {3, "ex", "rk", false, &persistent, body.substr(0, initial_frame_max - 7)}},
    {"body of three frames", {65535, "ex", "rk", false, &full.props, body}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    CHECK(encode(r.publish, initial_frame_max) == rabbitmq_c_bytes(r.publish));
  }
}

TEST_CASE("many publishes append one after another") {
  amqp_basic_properties_t persistent{};
  persistent._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  persistent.delivery_mode = 2;
  basic_publish first{1, "ex", "a", false, &persistent, "one"};
  basic_publish second{1, "ex", "b", false, &persistent, "two"};
  frame_buffer buffer;
  REQUIRE(buffer.append_publish(first, 131072) == AMQP_STATUS_OK);
  REQUIRE(buffer.append_publish(second, 131072) == AMQP_STATUS_OK);
  CHECK(buffer.bytes() == encode(first, 131072) + encode(second, 131072));
  CHECK(frames_of(buffer.bytes()).size() == 6);
  buffer.clear();
  CHECK(buffer.empty());
}

TEST_CASE("the exact bytes of a small publish") {
  amqp_basic_properties_t persistent{};
  persistent._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  persistent.delivery_mode = 2;
  const unsigned char expected[] = {
    // method frame, channel 1, 10 bytes: basic.publish (60, 40), ticket 0, exchange "",
    // routing key "q", no mandatory/immediate bits
    0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x3c, 0x00, 0x28, 0x00, 0x00, 0x00, 0x01, 'q',
    0x00, 0xce,
    // header frame, 15 bytes: class 60, weight 0, body size 1, flags (delivery mode), mode 2
    0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x10, 0x00, 0x02, 0xce,
    // body frame, 1 byte
    0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'x', 0xce};
  std::string bytes_expected(reinterpret_cast<const char*>(expected), sizeof expected);
  CHECK(encode({1, "", "q", false, &persistent, "x"}, 131072) == bytes_expected);
}

TEST_CASE("rabbitmq-c decodes the method and the properties back") {
  full_properties full;
  auto frames = frames_of(encode({9, "telluride", "aggregates", true, &full.props, "body"}, 131072));
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].type == AMQP_FRAME_METHOD);
  CHECK(frames[1].type == AMQP_FRAME_HEADER);
  CHECK(frames[2].type == AMQP_FRAME_BODY);
  for (const auto& f : frames)
    CHECK(f.channel == 9);

  amqp_pool_t pool;
  init_amqp_pool(&pool, 4096);
  const std::string& method_payload = frames[0].payload;
  REQUIRE(method_payload.size() > 4);
  CHECK(big_endian(std::string_view(method_payload).substr(0, 4)) == AMQP_BASIC_PUBLISH_METHOD);
  void* decoded = nullptr;
  std::string args = method_payload.substr(4);
  REQUIRE(amqp_decode_method(AMQP_BASIC_PUBLISH_METHOD, &pool, view(args), &decoded) == AMQP_STATUS_OK);
  const auto* m = static_cast<const amqp_basic_publish_t*>(decoded);
  CHECK(m->ticket == 0);
  CHECK(text(m->exchange) == "telluride");
  CHECK(text(m->routing_key) == "aggregates");
  CHECK(m->mandatory == 1);
  CHECK(m->immediate == 0);

  std::string_view header = frames[1].payload;
  REQUIRE(header.size() > 12);
  CHECK(big_endian(header.substr(0, 2)) == AMQP_BASIC_CLASS);
  CHECK(big_endian(header.substr(2, 2)) == 0);
  CHECK(big_endian(header.substr(4, 8)) == 4);
  std::string props_bytes(header.substr(12));
  void* decoded_props = nullptr;
  REQUIRE(amqp_decode_properties(AMQP_BASIC_CLASS, &pool, view(props_bytes), &decoded_props) == AMQP_STATUS_OK);
  const auto* p = static_cast<const amqp_basic_properties_t*>(decoded_props);
  CHECK(p->_flags == full.props._flags);
  CHECK(text(p->content_type) == "application/json");
  CHECK(p->delivery_mode == 2);
  CHECK(p->priority == 7);
  CHECK(text(p->correlation_id) == "corr-1");
  CHECK(text(p->expiration) == "60000");
  CHECK(text(p->message_id) == "msg-42");
  CHECK(p->timestamp == 1700000000);
  CHECK(text(p->type) == "aggregate");
  REQUIRE(p->headers.num_entries == 2);
  CHECK(text(p->headers.entries[0].key) == "x-reason");
  CHECK(text(p->headers.entries[0].value.value.bytes) == "threshold exceeded");
  CHECK(text(p->headers.entries[1].key) == "x-count");
  CHECK(p->headers.entries[1].value.value.i64 == 3);
  CHECK(frames[2].payload == "body");
  empty_amqp_pool(&pool);
}

TEST_CASE("a body larger than a frame is split into frames of frame_max - 8 bytes") {
  std::string body(10000, 'b');
  body[4087] = '1';  // last byte of the first frame
  body[4088] = '2';  // first byte of the second
  auto frames = frames_of(encode({1, "ex", "rk", false, nullptr, body}, 4096));
  REQUIRE(frames.size() == 5);
  CHECK(big_endian(std::string_view(frames[1].payload).substr(4, 8)) == 10000);
  CHECK(frames[2].type == AMQP_FRAME_BODY);
  CHECK(frames[2].payload.size() == 4088);
  CHECK(frames[3].payload.size() == 4088);
  CHECK(frames[4].payload.size() == 1824);
  CHECK(frames[2].payload.back() == '1');
  CHECK(frames[3].payload.front() == '2');
  CHECK(frames[2].payload + frames[3].payload + frames[4].payload == body);
}

TEST_CASE("an empty body has no body frame") {
  auto frames = frames_of(encode({1, "ex", "rk", false, nullptr, ""}, 131072));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].type == AMQP_FRAME_METHOD);
  CHECK(frames[1].type == AMQP_FRAME_HEADER);
  CHECK(big_endian(std::string_view(frames[1].payload).substr(4, 8)) == 0);
}

TEST_CASE("a publish that cannot be encoded leaves the buffer as it was") {
  frame_buffer buffer;
  REQUIRE(buffer.append_publish({1, "ex", "first", false, nullptr, "kept"}, 131072) == AMQP_STATUS_OK);
  const std::string before(buffer.bytes());
  std::string long_name(256, 'k');
  CHECK(buffer.append_publish({1, "ex", long_name, false, nullptr, "x"}, 131072) == AMQP_STATUS_BAD_AMQP_DATA);
  CHECK(buffer.bytes() == before);

  // Properties must fit in one frame, with the header frame's own 20 bytes.
  std::string huge(4096, 'h');
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG;
  props.content_type = view("text/plain");
  amqp_table_entry_t entry{};
  entry.key = view("x-huge");
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = view(huge);
  props.headers = amqp_table_t{1, &entry};
  CHECK(buffer.append_publish({1, "ex", "rk", false, &props, "x"}, 4096) == AMQP_STATUS_TABLE_TOO_BIG);
  CHECK(buffer.bytes() == before);
  CHECK(buffer.append_publish({1, "ex", "rk", false, &props, "x"}, 8192) == AMQP_STATUS_OK);

  CHECK(buffer.append_publish({1, "ex", "rk", false, nullptr, "x"}, 4095) == AMQP_STATUS_INVALID_PARAMETER);
}

TEST_CASE("write_all hands over a buffer larger than the socket holds, in order") {
  socket_pair pair;
  set_nonblocking(pair.fds[0]);
  std::string data(8 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i % 251);
  std::string received;
  std::thread reader([&] {
    char chunk[65536];
    while (received.size() < data.size()) {
      std::this_thread::sleep_for(1ms);  // slower than the writer: it must wait for room
      ssize_t n = ::recv(pair.fds[1], chunk, sizeof chunk, 0);
      if (n <= 0)
        break;
      received.append(chunk, static_cast<std::size_t>(n));
    }
  });
  int rc = write_all(pair.fds[0], data, 5s);
  reader.join();
  CHECK(rc == AMQP_STATUS_OK);
  CHECK(received.size() == data.size());
  CHECK(received == data);
}

TEST_CASE("write_all times out when the peer takes nothing") {
  socket_pair pair;
  set_nonblocking(pair.fds[0]);
  std::string data(16 << 20, 'x');  // far more than a socket buffer
  auto started = std::chrono::steady_clock::now();
  CHECK(write_all(pair.fds[0], data, 100ms) == AMQP_STATUS_TIMEOUT);
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK(waited >= 100ms);
  CHECK(waited < 5s);
}

TEST_CASE("write_all reports a closed peer as a socket error, without SIGPIPE") {
  socket_pair pair;
  set_nonblocking(pair.fds[0]);
  ::close(pair.fds[1]);
  pair.fds[1] = -1;
  CHECK(write_all(pair.fds[0], "frames", 1s) == AMQP_STATUS_SOCKET_ERROR);
  CHECK(errno == EPIPE);
  CHECK(write_all(pair.fds[0], "", 1s) == AMQP_STATUS_OK);  // nothing to write: no send at all
}
