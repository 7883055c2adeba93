// The processors' partition_by decodes a reading once: its body, its sensor's hash, and its
// AMQP message_id's fingerprint, so the batch processors never read the message's metadata.
#include "telluride/daemon/reading_decoder.hpp"

#include "telluride/domain/message_id_window.hpp"

#include <doctest/doctest.h>

#include <string>

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

} // namespace reading_decoder_test
