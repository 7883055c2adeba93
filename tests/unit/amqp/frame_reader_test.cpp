#include "wire_frames.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

using namespace wire_test;

TEST_CASE("the frame reader decodes what rabbitmq-c decodes, frame for frame") {
  const std::string stream = a_stream();
  const std::vector<seen> expected = library_frames(stream);
  REQUIRE(expected.size() == 6 * 3 + 1 + 2 + 3 + 1);  // the unknown frame is skipped by both
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
  CHECK(expected[13].headers.size() == 16);  // delivery 5: every flat kind of value
  CHECK(expected[13].headers[0] == "sensor_key=S:1/2/3");
  CHECK(expected[16].headers.size() == 18);  // delivery 6: and a nested table and array
  CHECK(expected[16].headers[16] == "F=F:{inner=l:7}");
  CHECK(expected[16].headers[17] == "A=A:[S:a][I:9]");

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
