// Claims about message and metadata: routing hints, failure and key/value pairs.
#include "causeway/message.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using causeway::message;
using causeway::message_status;
using causeway::metadata;

TEST_CASE("a new message is ok, goes to the default batcher with an empty key") {
  message m{"payload"};
  CHECK(m.data == "payload");
  CHECK(m.status() == message_status::ok);
  CHECK_FALSE(m.is_failed());
  CHECK(m.failure_reason() == "");
  CHECK(m.batcher() == "default");
  CHECK(m.batcher() == causeway::default_batcher);
  CHECK(m.batch_key() == "");
  CHECK_FALSE(m.wants_immediate_ack());
  CHECK(m.metadata.empty());
  CHECK(m.ack.to == nullptr);
  CHECK(m.ack.tag == 0);
  CHECK(m.ack.epoch == 0);
}

TEST_CASE("a message carries the ack reference it was made with") {
  message m{"payload", causeway::ack_ref{nullptr, 42, 7}};
  CHECK(m.ack.tag == 42);
  CHECK(m.ack.epoch == 7);
}

TEST_CASE("fail marks the message failed with its reason") {
  message m{"payload"};
  m.fail("bad checksum");
  CHECK(m.status() == message_status::failed);
  CHECK(m.is_failed());
  CHECK(m.failure_reason() == "bad checksum");

  m.fail("second reason");
  CHECK(m.is_failed());
  CHECK(m.failure_reason() == "second reason");
}

TEST_CASE("put_batcher and put_batch_key set the routing hints") {
  message m{"payload"};
  m.put_batcher("s3");
  m.put_batch_key("sensor-7");
  CHECK(m.batcher() == "s3");
  CHECK(m.batch_key() == "sensor-7");

  m.put_batch_key("");
  CHECK(m.batch_key() == "");
  CHECK(m.batcher() == "s3");
}

TEST_CASE("ack_immediately asks for an ack right after handle_message") {
  message m{"payload"};
  m.ack_immediately();
  CHECK(m.wants_immediate_ack());
  CHECK_FALSE(m.is_failed());
}

TEST_CASE("moving a message keeps its status and hints") {
  message m{"payload"};
  m.put_batcher("s3");
  m.put_batch_key("k");
  m.ack_immediately();
  m.fail("why");
  m.metadata.set("routing_key", "rk");
  message moved = std::move(m);
  CHECK(moved.data == "payload");
  CHECK(moved.batcher() == "s3");
  CHECK(moved.batch_key() == "k");
  CHECK(moved.wants_immediate_ack());
  CHECK(moved.failure_reason() == "why");
  CHECK(moved.metadata.get("routing_key") == "rk");
}

TEST_CASE("metadata returns what was set and an empty view for absent keys") {
  metadata md;
  md.set("routing_key", "sensors.temp");
  md.set("message_id", "m-1");
  CHECK_FALSE(md.empty());
  CHECK(md.get("routing_key") == "sensors.temp");
  CHECK(md.get("message_id") == "m-1");
  CHECK(md.get("absent") == "");
  CHECK(md.contains("routing_key"));
  CHECK_FALSE(md.contains("absent"));
  CHECK_FALSE(md.contains("routing"));  // no prefix match
}

TEST_CASE("setting a key again overwrites it in place") {
  metadata md;
  md.set("a", "1");
  md.set("b", "2");
  md.set("a", "3");
  CHECK(md.get("a") == "3");
  using entries = std::vector<std::pair<std::string, std::string>>;
  CHECK(md.entries() == entries{{"a", "3"}, {"b", "2"}});
}

TEST_CASE("a key set to an empty value is present") {
  metadata md;
  md.set("flag", "");
  CHECK(md.contains("flag"));
  CHECK(md.get("flag") == "");
  CHECK(md.entries().size() == 1);
}

TEST_CASE("new metadata is empty") {
  metadata md;
  CHECK(md.empty());
  CHECK(md.entries().empty());
  CHECK_FALSE(md.contains(""));
}

TEST_CASE("metadata add appends without searching and get finds what was added") {
  causeway::metadata md;
  md.reserve(3);
  md.add("message_id", "m-1");
  md.add("routing_key", "sensor.reading");
  CHECK(md.get("message_id") == "m-1");
  CHECK(md.get("routing_key") == "sensor.reading");
  CHECK(md.entries().size() == 2);
  md.set("message_id", "m-2");  // set still replaces
  CHECK(md.get("message_id") == "m-2");
  CHECK(md.entries().size() == 2);
}

TEST_CASE("setting a value of another length keeps every entry and the order") {
  causeway::metadata md;
  md.add("exchange", "");
  md.add("routing_key", "sensor.reading");
  md.add("message_id", "m-1");
  md.set("routing_key", "a.much.longer.routing.key.than.before");
  md.set("exchange", "sensor_events");
  md.set("message_id", "");
  md.set("nul", std::string_view{"a\0b", 3});
  std::vector<std::pair<std::string, std::string>> seen;
  md.for_each([&](std::string_view k, std::string_view v) { seen.emplace_back(k, v); });
  using entries = std::vector<std::pair<std::string, std::string>>;
  CHECK(seen == entries{{"exchange", "sensor_events"},
                        {"routing_key", "a.much.longer.routing.key.than.before"},
                        {"message_id", ""},
                        {"nul", std::string{"a\0b", 3}}});
  CHECK(md.entries() == seen);
  CHECK(md.get("nul").size() == 3);
  CHECK(md.contains("message_id"));
}

TEST_CASE("a message goes to the default batcher, or to one chosen by name or by position") {
  causeway::message m;
  CHECK(m.batcher() == "default");
  CHECK_FALSE(m.batcher_position());

  m.put_batcher(causeway::batcher_at{1});
  CHECK(m.batcher().empty());
  REQUIRE(m.batcher_position());
  CHECK(*m.batcher_position() == causeway::batcher_at{1});
  causeway::message moved = std::move(m);
  CHECK(moved.batcher_position() == std::optional{causeway::batcher_at{1}});

  moved.put_batcher("a_batcher_name_longer_than_the_inline_buffer");
  CHECK(moved.batcher() == "a_batcher_name_longer_than_the_inline_buffer");
  CHECK_FALSE(moved.batcher_position());
  causeway::message copied = moved;
  CHECK(copied.batcher() == "a_batcher_name_longer_than_the_inline_buffer");
  copied.put_batcher("");
  CHECK(copied.batcher() == "default");
}

TEST_CASE("metadata copies, moves and grows without losing an entry") {
  causeway::metadata md;
  for (int i = 0; i < 40; ++i)
    md.add("key" + std::to_string(i), std::string(static_cast<std::size_t>(i), 'v'));
  CHECK(md.get("key39") == std::string(39, 'v'));
  causeway::metadata copied = md;
  CHECK(copied.entries() == md.entries());
  causeway::metadata moved = std::move(md);
  CHECK(moved.entries() == copied.entries());
  CHECK(md.empty());  // NOLINT(bugprone-use-after-move): a moved-from metadata is empty
  CHECK(md.capacity() == 0);
  md.add("again", "1");
  CHECK(md.get("again") == "1");
  copied = moved;
  CHECK(copied.entries().size() == 40);
  const std::size_t capacity = copied.capacity();
  copied.clear();
  CHECK(copied.empty());
  CHECK(copied.capacity() == capacity);
}

TEST_CASE("metadata takes values that are views of its own entries") {
  causeway::metadata md;
  md.add("a", "first value");
  md.add("b", "2");
  md.set("b", md.get("a"));  // grows the entry after the one it reads
  CHECK(md.get("b") == "first value");
  md.set("a", md.get("b").substr(0, 5));
  CHECK(md.get("a") == "first");
  for (int i = 0; i < 8; ++i)
    md.add(md.get("a"), md.get("b"));  // each add may move the buffer
  CHECK(md.entries().size() == 10);
  CHECK(md.entries().back() == std::pair<std::string, std::string>{"first", "first value"});
}

TEST_CASE("a batcher's name of up to 15 bytes and a longer one read back the same, copied or moved") {
  causeway::message m;
  m.put_batcher("exactly_15_byte");
  CHECK(m.batcher() == "exactly_15_byte");
  m.put_batcher("sixteen_bytes_xx");
  CHECK(m.batcher() == "sixteen_bytes_xx");
  causeway::message copied = m;
  m.put_batcher("short");
  CHECK(m.batcher() == "short");
  CHECK(copied.batcher() == "sixteen_bytes_xx");
  causeway::message moved = std::move(copied);
  CHECK(moved.batcher() == "sixteen_bytes_xx");
  moved.put_batcher(causeway::batcher_at{0});
  CHECK(moved.batcher().empty());
  moved.put_batcher("one");
  CHECK(moved.batcher() == "one");
}
