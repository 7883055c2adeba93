#include "causeway/amqp/delivery_assembler.hpp"

#include "frame_builder.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace causeway::amqp;
using amqp_test::frame_builder;

namespace {

// Small limits, so the cases stay readable: bodies up to 100 bytes, 32 bytes allocated ahead.
constexpr assembly_limits small{100, 32, 64};

// Properties with every field the assembler copies set: message_id m-1, correlation_id c-1,
// timestamp 1700000000, content_type application/json, and one string header (`entry`, which
// must outlive them).
amqp_basic_properties_t every_property(frame_builder& f, amqp_table_entry_t& entry, std::string header_key,
                                       std::string header_value) {
  amqp_basic_properties_t p{};
  p._flags = AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
             AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG;
  p.message_id = f.keep("m-1");
  p.correlation_id = f.keep("c-1");
  p.timestamp = 1700000000;
  p.content_type = f.keep("application/json");
  entry = amqp_table_entry_t{};
  entry.key = f.keep(std::move(header_key));
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = f.keep(std::move(header_value));
  p.headers = amqp_table_t{1, &entry};
  return p;
}

// One frame fed to the assembler and what must come of it. For completed deliveries `text` is
// the body; for oversized and broken ones the failure reason; for ignored frames the problem.
struct step {
  step(amqp_frame_t f, frame_outcome o, std::uint64_t t = 0, std::string s = {})
    : frame(f), outcome(o), tag(t), text(std::move(s)) {}
  amqp_frame_t frame;
  frame_outcome outcome;
  std::uint64_t tag;
  std::string text;
};

struct assembly_case {
  const char* claim;
  std::vector<step> steps;
  bool in_progress_after = false;
};

const char* name(frame_outcome o) {
  switch (o) {
    case frame_outcome::not_content: return "not_content";
    case frame_outcome::taken: return "taken";
    case frame_outcome::completed: return "completed";
    case frame_outcome::oversized: return "oversized";
    case frame_outcome::broken: return "broken";
    case frame_outcome::ignored: return "ignored";
  }
  return "?";
}

void run(const assembly_case& c) {
  CAPTURE(std::string(c.claim));
  delivery_assembler a(small);
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const auto& s = c.steps[i];
    CAPTURE(i);
    auto r = a.feed(s.frame);
    REQUIRE(std::string(name(r.outcome)) == name(s.outcome));
    switch (s.outcome) {
      case frame_outcome::completed:
        REQUIRE(r.delivery);
        CHECK(r.delivery->delivery_tag == s.tag);
        CHECK_FALSE(r.delivery->msg.is_failed());
        CHECK(r.delivery->msg.data == s.text);
        CHECK(r.delivery->msg.data.capacity() >= s.text.size() + small.padding);
        CHECK(r.problem.empty());
        break;
      case frame_outcome::oversized:
      case frame_outcome::broken:
        REQUIRE(r.delivery);
        CHECK(r.delivery->delivery_tag == s.tag);
        CHECK(r.delivery->msg.is_failed());
        CHECK(r.delivery->msg.failure_reason() == s.text);
        CHECK(r.delivery->msg.data.empty());
        break;
      case frame_outcome::ignored:
        CHECK_FALSE(r.delivery);
        CHECK(r.problem == s.text);
        break;
      default:
        CHECK_FALSE(r.delivery);
        CHECK(r.problem.empty());
        break;
    }
  }
  CHECK(a.in_progress() == c.in_progress_after);
}

} // namespace

TEST_CASE("deliveries are assembled from deliver, header and body frames, and every frame out of order has one outcome") {
  frame_builder f;
  using o = frame_outcome;
  const std::string hundred(100, 'a');
  const std::vector<assembly_case> cases = {
    {"a body in one frame",
     {{f.deliver(1), o::taken}, {f.header(5), o::taken}, {f.body("hello"), o::completed, 1, "hello"}}},
    {"a body over several frames",
     {{f.deliver(1), o::taken}, {f.header(10), o::taken}, {f.body("01234"), o::taken},
      {f.body("56789"), o::completed, 1, "0123456789"}}},
    {"an empty body completes at its header",
     {{f.deliver(7), o::taken}, {f.header(0), o::completed, 7, ""}}},
    {"a body of exactly max_body_size is read",
     {{f.deliver(1), o::taken}, {f.header(100), o::taken}, {f.body(hundred), o::completed, 1, hundred}}},
    {"a body one byte over max_body_size is skipped and its delivery failed once it passed",
     {{f.deliver(1), o::taken}, {f.header(101), o::taken}, {f.body(std::string(60, 'x')), o::taken},
      {f.body(std::string(41, 'x')), o::oversized, 1, "body of 101 bytes exceeds max_body_size 100"}}},
    {"a header announcing 2^63 bytes is skipped; the next deliver ends it and starts anew",
     {{f.deliver(1), o::taken}, {f.header(std::uint64_t{1} << 63), o::taken},
      {f.body(std::string(1000, 'x')), o::taken},
      {f.deliver(2), o::oversized, 1, "body of 9223372036854775808 bytes exceeds max_body_size 100"},
      {f.header(2), o::taken}, {f.body("ok"), o::completed, 2, "ok"}}},
    {"a second header while skipping ends the oversized delivery",
     {{f.deliver(1), o::taken}, {f.header(500), o::taken},
      {f.header(5), o::oversized, 1, "body of 500 bytes exceeds max_body_size 100"}}},
    {"a skipped body longer than announced ends at its announced size; the rest is ignored",
     {{f.deliver(1), o::taken}, {f.header(150), o::taken},
      {f.body(std::string(200, 'x')), o::oversized, 1, "body of 150 bytes exceeds max_body_size 100"},
      {f.body("x"), o::ignored, 0, "body frame of 1 bytes without a delivery"}}},
    {"a body frame with no delivery is ignored",
     {{f.body("x"), o::ignored, 0, "body frame of 1 bytes without a delivery"}}},
    {"a header with no deliver is ignored",
     {{f.header(5), o::ignored, 0, "content header without a basic.deliver before it"},
      {f.body("hello"), o::ignored, 0, "body frame of 5 bytes without a delivery"}}},
    {"a body frame before the header breaks the delivery off",
     {{f.deliver(3), o::taken},
      {f.body("x"), o::broken, 3, "delivery 3: body frame before its content header"}}},
    {"a new deliver before the header breaks the first off and starts the second",
     {{f.deliver(3), o::taken},
      {f.deliver(4), o::broken, 3, "delivery 3 broken off by delivery 4 before its content header"},
      {f.header(1), o::taken}, {f.body("z"), o::completed, 4, "z"}}},
    {"a new deliver mid-body breaks the first off and starts the second",
     {{f.deliver(1), o::taken}, {f.header(10), o::taken}, {f.body("abc"), o::taken},
      {f.deliver(2), o::broken, 1, "delivery 1 broken off by delivery 2 after 3 of 10 body bytes"}},
     true},
    {"a second header mid-body breaks the delivery off",
     {{f.deliver(1), o::taken}, {f.header(10), o::taken}, {f.body("abc"), o::taken},
      {f.header(10), o::broken, 1, "delivery 1: a second content header after 3 of 10 body bytes"}}},
    {"a body longer than announced breaks the delivery off; the rest is ignored",
     {{f.deliver(1), o::taken}, {f.header(3), o::taken},
      {f.body("abcd"), o::broken, 1, "delivery 1: body frames carry more than the 3 bytes announced"},
      {f.body("e"), o::ignored, 0, "body frame of 1 bytes without a delivery"}}},
    {"an empty body frame changes nothing",
     {{f.deliver(1), o::taken}, {f.header(2), o::taken}, {f.body(""), o::taken},
      {f.body("hi"), o::completed, 1, "hi"}}},
    {"other frames are not the assembler's and do not disturb a delivery",
     {{f.deliver(1), o::taken}, {f.header(4), o::taken}, {f.heartbeat(), o::not_content},
      {f.method(AMQP_BASIC_CANCEL_OK_METHOD), o::not_content}, {f.body("abcd"), o::completed, 1, "abcd"}}},
    {"a delivery waiting for its header is still in progress",
     {{f.deliver(1), o::taken}}, true},
  };
  for (const auto& c : cases)
    run(c);
}

TEST_CASE("a delivery carries the deliver's and the header's metadata, in order") {
  frame_builder f;
  delivery_assembler a(small);
  amqp_table_entry_t entry;
  const auto p = every_property(f, entry, "k", "v");
  CHECK(a.feed(f.deliver(9, true, "sensor_events", "sensor.reading")).outcome == frame_outcome::taken);
  CHECK(a.feed(f.header(2, p)).outcome == frame_outcome::taken);
  auto r = a.feed(f.body("{}"));
  REQUIRE(r.outcome == frame_outcome::completed);
  CHECK(r.delivery->delivery_tag == 9);
  CHECK(r.delivery->redelivered);
  using entries = std::vector<std::pair<std::string, std::string>>;
  CHECK(r.delivery->msg.metadata.entries() == entries{{"delivery_tag", "9"},
                                                      {"redelivered", "true"},
                                                      {"exchange", "sensor_events"},
                                                      {"routing_key", "sensor.reading"},
                                                      {"message_id", "m-1"},
                                                      {"correlation_id", "c-1"},
                                                      {"timestamp", "1700000000"},
                                                      {"content_type", "application/json"},
                                                      {"headers", R"({"k":"v"})"}});
}

TEST_CASE("a delivery's metadata holds only the fields delivery_metadata keeps, and always redelivered") {
  frame_builder f;
  amqp_table_entry_t entry;
  const auto p = every_property(f, entry, "sensor_key", "1/2/3");
  using entries = std::vector<std::pair<std::string, std::string>>;
  auto assemble = [&](delivery_metadata keep) {
    delivery_assembler a(small, keep);
    CHECK(a.feed(f.deliver(12, false, "sensor_events", "sensor.reading")).outcome == frame_outcome::taken);
    CHECK(a.feed(f.header(2, p)).outcome == frame_outcome::taken);
    auto r = a.feed(f.body("{}"));
    REQUIRE(r.outcome == frame_outcome::completed);
    CHECK(r.delivery->delivery_tag == 12);
    return r.delivery->msg.metadata.entries();
  };

  SUBCASE("what Telluride's readings keep") {
    delivery_metadata keep;
    keep.delivery_tag = false;
    keep.exchange = false;
    keep.timestamp = false;
    keep.headers = false;
    CHECK(assemble(keep) == entries{{"redelivered", "false"},
                                    {"routing_key", "sensor.reading"},
                                    {"message_id", "m-1"},
                                    {"correlation_id", "c-1"},
                                    {"content_type", "application/json"}});
  }
  SUBCASE("nothing but redelivered") {
    CHECK(assemble(delivery_metadata{false, false, false, false, false, false, false, false}) ==
          entries{{"redelivered", "false"}});
  }
  SUBCASE("the deliver's fields without the properties") {
    CHECK(assemble(delivery_metadata{true, true, true, false, false, false, false, false}) ==
          entries{{"delivery_tag", "12"}, {"redelivered", "false"}, {"exchange", "sensor_events"},
                  {"routing_key", "sensor.reading"}});
  }
  SUBCASE("by default, every field") {
    CHECK(assemble({}).size() == 9);
  }
}

TEST_CASE("an oversized delivery keeps its metadata and allocates nothing for its body") {
  frame_builder f;
  delivery_assembler a(small);
  amqp_basic_properties_t p{};
  p._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
  p.message_id = f.keep("big-1");
  a.feed(f.deliver(1));
  a.feed(f.header(5'000'000, p));
  for (int i = 0; i < 38; ++i) {
    CHECK(a.feed(f.body(std::string(131'072, 'x'))).outcome == frame_outcome::taken);
    CHECK(a.buffered() == 0);
    CHECK(a.reserved() == 0);
  }
  auto r = a.feed(f.body(std::string(5'000'000 - 38 * 131'072, 'x')));
  REQUIRE(r.outcome == frame_outcome::oversized);
  CHECK(r.delivery->msg.failure_reason() == "body of 5000000 bytes exceeds max_body_size 100");
  CHECK(r.delivery->msg.metadata.get("message_id") == "big-1");
  CHECK(r.delivery->msg.metadata.get("delivery_tag") == "1");
  CHECK_FALSE(a.in_progress());
}

TEST_CASE("memory follows the bytes received, never more than reserve_ahead or their own size beyond them") {
  frame_builder f;
  assembly_limits limits{1000, 32, 64};
  delivery_assembler a(limits);
  a.feed(f.deliver(1));
  a.feed(f.header(1000));  // announced: 1000 bytes; allocated: 32 ahead + padding
  CHECK(a.reserved() == 32 + 64);
  std::string sent;
  for (int i = 0; i < 99; ++i) {
    std::string piece(10, static_cast<char>('a' + i % 26));
    sent += piece;
    CHECK(a.feed(f.body(piece)).outcome == frame_outcome::taken);
    CHECK(a.buffered() == sent.size());
    CHECK(a.reserved() >= a.buffered() + limits.padding);
    CHECK(a.reserved() <= a.buffered() + std::max(limits.reserve_ahead, a.buffered()) + limits.padding);
  }
  auto r = a.feed(f.body("0123456789"));
  REQUIRE(r.outcome == frame_outcome::completed);
  CHECK(r.delivery->msg.data == sent + "0123456789");
  CHECK(r.delivery->msg.data.capacity() == 1000 + 64);
}

TEST_CASE("a large body is copied a few times as it grows, not once per reserve_ahead") {
  // 1 MiB in 8 frames of 128 KiB, 128 KiB ahead: the body is allocated at 128 KiB, then at
  // 512 KiB (twice the 256 KiB that had arrived) and at its full size, instead of once per
  // frame from the second on.
  frame_builder f;
  delivery_assembler a;
  constexpr std::size_t frame = 128 * 1024;
  a.feed(f.deliver(1));
  a.feed(f.header(8 * frame));
  std::vector<std::size_t> sizes{a.reserved()};
  for (int i = 0; i < 8; ++i) {
    auto r = a.feed(f.body(std::string(frame, static_cast<char>('a' + i))));
    if (i < 7) {
      REQUIRE(r.outcome == frame_outcome::taken);
      if (a.reserved() != sizes.back())
        sizes.push_back(a.reserved());
    } else {
      REQUIRE(r.outcome == frame_outcome::completed);
      CHECK(r.delivery->msg.data.size() == 8 * frame);
      CHECK(r.delivery->msg.data[5 * frame] == 'f');
      CHECK(r.delivery->msg.data.capacity() == 8 * frame + 64);
    }
  }
  CHECK(sizes == std::vector<std::size_t>{frame + 64, 4 * frame + 64, 8 * frame + 64});
}

TEST_CASE("a body within reserve_ahead is allocated once, exactly, with its padding") {
  frame_builder f;
  delivery_assembler a;  // the defaults: 1 MiB, 128 KiB ahead, 64 bytes padding
  CHECK(a.limits().max_body_size == 1048576);
  a.feed(f.deliver(1));
  a.feed(f.header(90));
  CHECK(a.reserved() == 90 + 64);
  auto r = a.feed(f.body(std::string(90, 'r')));
  REQUIRE(r.outcome == frame_outcome::completed);
  CHECK(r.delivery->msg.data.capacity() == 90 + 64);
}

TEST_CASE("a body dropped by a reset or a break-off leaves no allocation to the next delivery") {
  frame_builder f;
  assembly_limits limits{1000, 32, 64};
  delivery_assembler a(limits);
  a.feed(f.deliver(1));
  a.feed(f.header(1000));
  a.feed(f.body(std::string(500, 'x')));
  CHECK(a.reserved() >= 500 + 64);
  a.reset();
  a.feed(f.deliver(1));
  a.feed(f.header(10));
  CHECK(a.reserved() == 10 + 64);  // not the 500 bytes of the body reset

  auto broken = a.feed(f.deliver(2));  // breaks off delivery 1 after its header
  REQUIRE(broken.outcome == frame_outcome::broken);
  CHECK(broken.delivery->msg.data.capacity() < 32);  // freed: a failed delivery holds no body
  a.feed(f.header(20));
  CHECK(a.reserved() == 20 + 64);
}

TEST_CASE("reset drops the delivery in progress and the next one starts clean") {
  frame_builder f;
  delivery_assembler a(small);
  a.feed(f.deliver(1));
  a.feed(f.header(10));
  a.feed(f.body("abc"));
  CHECK(a.in_progress());
  CHECK(a.buffered() == 3);
  a.reset();
  CHECK_FALSE(a.in_progress());
  CHECK(a.buffered() == 0);
  CHECK(a.feed(f.body("defghij")).outcome == frame_outcome::ignored);
  a.feed(f.deliver(1));
  a.feed(f.header(2));
  auto r = a.feed(f.body("ok"));
  REQUIRE(r.outcome == frame_outcome::completed);
  CHECK(r.delivery->msg.data == "ok");
}

TEST_CASE("with recycled buffers, a delivery is filled into those an earlier one gave back, with nothing of it left") {
  frame_builder f;
  auto pool = std::make_shared<recycled_buffers>(4);
  delivery_assembler a(small, {}, pool);
  amqp_table_entry_t entry;
  const auto p = every_property(f, entry, "k", "v");
  a.feed(f.deliver(1, true, "sensor_events", "sensor.reading.long"));
  a.feed(f.header(80, p));
  auto first = a.feed(f.body(std::string(80, 'x')));
  REQUIRE(first.outcome == frame_outcome::completed);
  CHECK_FALSE(first.delivery->recycled);  // nothing came back yet
  const char* body_buffer = first.delivery->msg.data.data();
  std::vector<causeway::message> done;
  done.push_back(std::move(first.delivery->msg));
  pool->give(done);

  // A shorter body and fewer properties: only its own bytes and entries, in the same buffers.
  a.feed(f.deliver(2, false, "ex", "rk"));
  a.feed(f.header(3));
  auto second = a.feed(f.body("abc"));
  REQUIRE(second.outcome == frame_outcome::completed);
  CHECK(second.delivery->recycled);
  CHECK(second.delivery->msg.data == "abc");
  CHECK(second.delivery->msg.data.data() == body_buffer);
  CHECK(second.delivery->msg.data.capacity() >= 3 + small.padding);
  using entries = std::vector<std::pair<std::string, std::string>>;
  CHECK(second.delivery->msg.metadata.entries() ==
        entries{{"delivery_tag", "2"}, {"redelivered", "false"}, {"exchange", "ex"}, {"routing_key", "rk"}});

  // The pool is empty again: the next one is allocated afresh.
  a.feed(f.deliver(3));
  a.feed(f.header(2));
  auto third = a.feed(f.body("{}"));
  REQUIRE(third.outcome == frame_outcome::completed);
  CHECK_FALSE(third.delivery->recycled);
  CHECK(third.delivery->msg.data == "{}");
}
