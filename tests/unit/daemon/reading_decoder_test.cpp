// The processors' partition_by decodes a reading once: its body, its sensor's hash, and its
// AMQP message_id's fingerprint, so the batch processors never read the message's metadata.
#include "telluride/daemon/reading_decoder.hpp"

#include "telluride/domain/message_id_window.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace reading_decoder_test {

using namespace telluride;

causeway::message reading_message(const char* message_id) {
  causeway::message m{R"({"line_id": 10, "device_id": 100, "sensor_id": 7, "reading": 99.5, "timestamp": 1000})"};
  m.metadata.add("routing_key", "sensor.reading");
  if (message_id != nullptr)
    m.metadata.add("message_id", message_id);
  return m;
}

TEST_CASE("a decoded reading carries its sensor's hash and its message_id's fingerprint") {
  auto msg = reading_message("5f3c9a1b2e-1");
  const std::uint64_t hash = decode_reading(msg);
  const decoded_reading* d = decoded(msg);
  REQUIRE(d != nullptr);
  CHECK(hash == d->hash);
  CHECK(d->hash == hash_value(sensor_key{json_id{10}, json_id{100}, json_id{7}}));
  CHECK(d->reading.value == 99.5);
  REQUIRE(d->message_id.has_value());
  CHECK(*d->message_id == message_id_fingerprint("5f3c9a1b2e-1"));
  CHECK(*d->message_id == 0x5681635182dd82fbULL);
}

TEST_CASE("a reading without a message_id, or with an empty one, has no fingerprint") {
  for (const char* id : {static_cast<const char*>(nullptr), ""}) {
    auto msg = reading_message(id);
    decode_reading(msg);
    const decoded_reading* d = decoded(msg);
    REQUIRE(d != nullptr);
    CHECK_FALSE(d->message_id.has_value());
  }
}

TEST_CASE("a body that is not a reading fails the message and decodes nothing") {
  causeway::message msg{"not json"};
  msg.metadata.add("message_id", "m-1");
  CHECK(decode_reading(msg) == 0);
  CHECK(msg.is_failed());
  CHECK(msg.failure_reason().starts_with("invalid reading: "));
  CHECK(decoded(msg) == nullptr);
}

TEST_CASE("decoded readings stay valid as long as their messages, across blocks, copies and threads") {
  // Readings are made 256 to a block; a block lives while any message holds one of its readings.
  auto numbered = [](int i) {
    causeway::message m{R"({"line_id": 1, "device_id": 2, "sensor_id": )" + std::to_string(i) +
                        R"(, "reading": )" + std::to_string(i) + R"(.5, "timestamp": 1000})"};
    m.metadata.add("message_id", "m-" + std::to_string(i));
    return m;
  };
  auto check = [](const causeway::message& m, int i) {
    const decoded_reading* d = decoded(m);
    REQUIRE(d != nullptr);
    CHECK(d->reading.value == i + 0.5);
    CHECK(d->reading.key == sensor_key{json_id{1}, json_id{2}, json_id{i}});
    CHECK(d->message_id == message_id_fingerprint("m-" + std::to_string(i)));
  };
  constexpr int count = 700;  // three blocks

  SUBCASE("kept, copied, and let go in any order") {
    std::vector<causeway::message> messages;
    for (int i = 0; i < count; ++i) {
      messages.push_back(numbered(i));
      decode_reading(messages.back());
    }
    const causeway::message copy = messages[3];  // shares the reading of messages[3]
    std::vector<causeway::message> kept;
    for (int i = count - 1; i >= 0; i -= 2)  // every block keeps some of its readings
      kept.push_back(std::move(messages[static_cast<std::size_t>(i)]));
    messages.clear();
    for (std::size_t k = 0; k < kept.size(); ++k)
      check(kept[k], count - 1 - static_cast<int>(2 * k));
    check(copy, 3);
  }

  SUBCASE("decoded on a thread that has ended") {
    std::vector<causeway::message> messages;
    std::thread{[&] {
      for (int i = 0; i < count; ++i) {
        messages.push_back(numbered(i));
        decode_reading(messages.back());
      }
    }}.join();
    for (int i = 0; i < count; ++i)
      check(messages[static_cast<std::size_t>(i)], i);
  }
}

} // namespace reading_decoder_test
