// Checkpoint records of format versions 1 to 3, which daemons before version 4 wrote and
// users' streams still hold: they decode (version 1: message id texts taken in as their
// fingerprints, no alerts per sensor), a shard restored from them recognises the same
// redelivered ids, and they are written again as version 4 only.
#include "record_writer.hpp"

#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/checkpoint_record.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace checkpoint_v1_test {

using namespace state_test;

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

std::string le(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

// The version 1 snapshot of one sensor, as version 1 daemons wrote it (the bytes the version 1
// test of this format checked, by hand): layout 1, shard 0, epoch 1, sequence 5, base 5,
// written at 0, owner "a"; alerts_raised 2; sensor 10/-100/"s" with one reading 2.0 at
// 2026-11-22T10:00:00Z, 1 warning; one message id "m1".
const std::string v1_sensor = from_hex(
    "000a00000000000000" "009cffffffffffffff" "010100000073"  // ids: 10, -100, "s"
    "0100000000000000"                                   // count
    "0000000000000040" "0000000000000000" "0000000000000000"  // origin, mean, m2
    "0000000000000040" "0000000000000040" "0000000000000040"  // min, max, sum
    "0000000000000000" "000000000000f03f"                // sum_error, inverse_unit
    "0000000000000040"                                   // last_reading
    "14" "323032362d31312d32325431303a30303a30305a"      // last_timestamp
    "0100000000000000");                                 // consecutive warnings

/// A version 1 record of shard 0 of layout 1 by owner "a", epoch 1: `kind` 1 snapshot or
/// 2 delta, with `sensors` (v1_sensor) and the message id texts `ids`.
std::string v1_record(std::uint8_t kind, std::uint64_t sequence, std::uint64_t base, int sensors,
                      const std::vector<std::string>& ids, std::uint64_t alerts_raised = 2) {
  std::string out = "TLSR" + le(1, 2) + le(kind, 1) + le(1, 4) + le(0, 4) + le(1, 8) + le(sequence, 8) +
                    le(base, 8) + le(0, 8) + le(1, 2) + "a";
  out += le(alerts_raised, 8) + le(static_cast<std::uint32_t>(sensors), 4);
  for (int i = 0; i < sensors; ++i)
    out += v1_sensor;
  out += le(ids.size(), 4);
  for (const std::string& id : ids)
    out += le(id.size(), 2) + id;
  return out;
}

TEST_CASE("a version 1 snapshot decodes: ids as their fingerprints, no alerts per sensor") {
  const std::string bytes = v1_record(1, 5, 5, 1, {"m1"});
  CHECK(bytes.size() == 203);
  const auto decoded = decode_checkpoint(bytes);
  REQUIRE_MESSAGE(decoded.has_value(), (decoded ? std::string() : decoded.err().message));
  CHECK(decoded->header.kind == record_kind::snapshot);
  CHECK(decoded->header.sequence == 5);
  CHECK(decoded->header.owner == "a");
  CHECK(decoded->image.alerts_raised == 2);
  REQUIRE(decoded->image.sensors.size() == 1);
  const sensor_record& sensor = decoded->image.sensors[0];
  CHECK(sensor.aggregate.key == sensor_key{json_id{10}, json_id{-100}, json_id{std::string("s")}});
  CHECK(sensor.aggregate.stats.count() == 1);
  CHECK(sensor.aggregate.last_reading == 2.0);
  CHECK(sensor.aggregate.last_timestamp.view() == "2026-11-22T10:00:00Z");
  CHECK(sensor.consecutive_warnings == 1);
  CHECK(sensor.alerts == 0);
  CHECK(decoded->image.message_ids == std::vector<std::uint64_t>{0xfba57084a7d2e0deULL});
  CHECK(decode_checkpoint_header(bytes)->sequence == 5);
}

// The sensor of v1_sensor in version 4: ids 10 (zigzag 20), -100 (zigzag 199: 2 bytes) and
// "s" take 2 + 3 + 3 bytes, kept (nothing) 1, the count 1, the doubles 64 and 8, the timestamp
// 8 (form, seconds 1795341600 after written_at's 0 zigzagged in 5 bytes, no fraction digits,
// fraction 0), warnings and alerts 1 each.
constexpr std::size_t v4_sensor_size = 8 + 1 + 1 + 64 + 8 + 8 + 1 + 1;
constexpr std::size_t v1_sensor_size = 24 + 8 + 64 + 8 + 21 + 8;

TEST_CASE("a version 1 record encodes again as version 4: 41 bytes fewer per sensor, 8 per id") {
  const std::vector<std::string> ids{"m1", "", std::string(255, 'x'), "5f3c9a1b2e-77"};
  const std::string v1 = v1_record(1, 5, 5, 2, ids);
  const auto decoded = decode_checkpoint(v1);
  REQUIRE(decoded.has_value());
  CHECK(decoded->image.message_ids == fps({"m1", "", std::string(255, 'x'), "5f3c9a1b2e-77"}));
  const auto v4 = encode_checkpoint(*decoded);
  REQUIRE(v4.has_value());
  CHECK(v4->substr(4, 2) == le(4, 2));
  const std::size_t v1_ids = 2 * 4 + 2 + 0 + 255 + 13;
  CHECK(v1_sensor.size() == v1_sensor_size);
  CHECK(v4->size() == v1.size() - 2 * (v1_sensor_size - v4_sensor_size) - v1_ids + 4 * 8);
  const auto again = decode_checkpoint(*v4);
  REQUIRE(again.has_value());
  CHECK(again->image.message_ids == decoded->image.message_ids);
  CHECK(again->image.sensors[1].alerts == 0);
  CHECK(again->image.sensors[1].aggregate.last_timestamp.view() == "2026-11-22T10:00:00Z");
  CHECK(encode_checkpoint(*again).value() == *v4);  // version 4 is canonical
}

// A version 2 sensor: version 1's, then the alerts raised for it (3).
const std::string v2_sensor = v1_sensor + le(3, 8);

/// A version 2 record like v1_record, with fingerprints for ids.
std::string v2_record(std::uint8_t kind, std::uint64_t sequence, std::uint64_t base, int sensors,
                      const std::vector<std::string>& ids) {
  std::string out = "TLSR" + le(2, 2) + le(kind, 1) + le(1, 4) + le(0, 4) + le(1, 8) + le(sequence, 8) +
                    le(base, 8) + le(0, 8) + le(1, 2) + "a";
  out += le(2, 8) + le(static_cast<std::uint32_t>(sensors), 4);
  for (int i = 0; i < sensors; ++i)
    out += v2_sensor;
  out += le(ids.size(), 4);
  for (const std::string& id : ids)
    out += le(message_id_fingerprint(id), 8);
  return out;
}

TEST_CASE("a version 2 record decodes, and encodes again as version 4: 141 bytes a sensor become 92") {
  const std::string v2 = v2_record(1, 5, 5, 2, {"m1", "m2"});
  const auto decoded = decode_checkpoint(v2);
  REQUIRE_MESSAGE(decoded.has_value(), (decoded ? std::string() : decoded.err().message));
  REQUIRE(decoded->image.sensors.size() == 2);
  const sensor_record& sensor = decoded->image.sensors[1];
  CHECK(sensor.aggregate.key == sensor_key{json_id{10}, json_id{-100}, json_id{std::string("s")}});
  CHECK(sensor.aggregate.stats.count() == 1);
  CHECK(sensor.aggregate.last_timestamp.view() == "2026-11-22T10:00:00Z");
  CHECK(sensor.consecutive_warnings == 1);
  CHECK(sensor.alerts == 3);
  CHECK(decoded->image.message_ids == fps({"m1", "m2"}));

  const auto v4 = encode_checkpoint(*decoded);
  REQUIRE(v4.has_value());
  CHECK(v4->substr(4, 2) == le(4, 2));
  CHECK(v2_sensor.size() == 141);  // integer ids and a timestamp without a fraction
  CHECK(v4->size() == v2.size() - 2 * (v2_sensor.size() - v4_sensor_size));
  const auto again = decode_checkpoint(*v4);
  REQUIRE(again.has_value());
  CHECK(again->image.sensors[1].alerts == 3);
  CHECK(again->image.sensors[1].aggregate.key == sensor.aggregate.key);
  CHECK(again->image.message_ids == decoded->image.message_ids);
  CHECK(encode_checkpoint(*again).value() == *v4);
}

// The version 3 snapshot of the same sensor (its alerts 3), as version 3 daemons wrote it: no
// kept byte, the timestamp's seconds whole; one message id "m1".
const std::string v3_snapshot = from_hex(
    "544c535203000101000000000000000100000000000000050000000000000005000000000000000000000000000000010061"
    "0200000000000000" "01000000" "0014" "00c701" "010173" "01"
    "0000000000000040" "0000000000000000" "0000000000000000" "0000000000000040" "0000000000000040"
    "0000000000000040" "0000000000000000" "000000000000f03f" "0000000000000040"
    "01" "c0f495b00d" "00" "00" "01" "03" "01000000" "dee0d2a78470a5fb");

TEST_CASE("a version 3 record decodes, and encodes again as version 4: one byte more a sensor at written_at 0") {
  const auto decoded = decode_checkpoint(v3_snapshot);
  REQUIRE_MESSAGE(decoded.has_value(), (decoded ? std::string() : decoded.err().message));
  REQUIRE(decoded->image.sensors.size() == 1);
  const sensor_record& sensor = decoded->image.sensors[0];
  CHECK(sensor.aggregate.key == sensor_key{json_id{10}, json_id{-100}, json_id{std::string("s")}});
  CHECK(sensor.aggregate.stats.count() == 1);
  CHECK(sensor.aggregate.stats.max() == 2.0);
  CHECK(sensor.aggregate.last_timestamp.view() == "2026-11-22T10:00:00Z");
  CHECK(sensor.consecutive_warnings == 1);
  CHECK(sensor.alerts == 3);
  CHECK(decoded->image.message_ids == fps({"m1"}));
  const auto v4 = encode_checkpoint(*decoded);
  REQUIRE(v4.has_value());
  CHECK(v4->substr(4, 2) == le(4, 2));
  CHECK(v4->size() == v3_snapshot.size() + 1);
  CHECK(decode_checkpoint(*v4).has_value());
  // Version 3 is canonical too: the timestamp as text is refused.
  const std::size_t timestamp_at = 62 + 8 + 1 + 64 + 8;
  const std::string text_form = le(0, 1) + le(20, 1) + "2026-11-22T10:00:00Z";
  CHECK(decode_checkpoint(v3_snapshot.substr(0, timestamp_at) + text_form + v3_snapshot.substr(timestamp_at + 8))
            .err()
            .message ==
        "checkpoint record: last_timestamp is text of the form kept as numbers (not canonical) in sensor 1 of 1 "
        "(byte 62)");
}

TEST_CASE("version 4 refuses what is not its one form: a longer varint, a UTC timestamp as text, numbers out of range") {
  const auto decoded = decode_checkpoint(v2_record(1, 5, 5, 1, {}));
  REQUIRE(decoded.has_value());
  const std::string v4 = encode_checkpoint(*decoded).value();
  const std::size_t sensor_at = 62;  // header (50 + owner "a") + alerts_raised + sensor count
  const std::size_t timestamp_at = sensor_at + 8 + 1 + 1 + 64 + 8;
  REQUIRE(v4.substr(timestamp_at, 1) == le(1, 1));  // the UTC form
  struct corrupt {
    const char* what;
    std::string bytes;
    std::string error;
  };
  const std::string text_form = le(0, 1) + le(20, 1) + "2026-11-22T10:00:00Z";
  const std::vector<corrupt> cases = {
      // id 10 as 0x94 0x00 (zigzag 20 in two bytes) instead of 0x14.
      {"longer varint", v4.substr(0, sensor_at + 1) + from_hex("9400") + v4.substr(sensor_at + 2),
       "a variable-length integer is not in its shortest form, or above 2^64 - 1 in sensor 1 of 1 (byte 62)"},
      {"timestamp as text", v4.substr(0, timestamp_at) + text_form + v4.substr(timestamp_at + 8),
       "last_timestamp is text of the form kept as numbers (not canonical) in sensor 1 of 1 (byte 62)"},
      {"10 fraction digits", v4.substr(0, timestamp_at + 6) + le(10, 1) + v4.substr(timestamp_at + 7),
       "last_timestamp's numbers are out of range (seconds 1795341600, 10 fraction digits, fraction 0) in sensor 1 "
       "of 1 (byte 62)"},
      {"a fraction longer than its digits", v4.substr(0, timestamp_at + 6) + le(1, 1) + le(10, 1) +
                                               v4.substr(timestamp_at + 8),
       "last_timestamp's numbers are out of range (seconds 1795341600, 1 fraction digits, fraction 10) in sensor 1 "
       "of 1 (byte 62)"},
      {"form 2", v4.substr(0, timestamp_at) + le(2, 1) + v4.substr(timestamp_at + 1),
       "last_timestamp form 2 is unknown in sensor 1 of 1 (byte 62)"},
  };
  for (const corrupt& c : cases) {
    CAPTURE(c.what);
    const auto bad = decode_checkpoint(c.bytes);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.err().message == "checkpoint record: " + c.error);
  }
}

TEST_CASE("a version 1 record's bad message ids are refused as before") {
  const std::string bytes = v1_record(1, 5, 5, 1, {"m1"});
  const std::string longer = v1_record(1, 5, 5, 1, {"m1", "m2", "m3"});
  struct corrupt {
    const char* what;
    std::string bytes;
    std::string error;
  };
  const std::vector<corrupt> cases = {
      {"id count", bytes.substr(0, 195) + le(UINT32_MAX, 4) + bytes.substr(199),
       "announces 4294967295 message ids in 4 bytes, which hold at most 2 (byte 199)"},
      {"message id size", longer.substr(0, 199) + le(300, 2) + longer.substr(201),
       "message id 1 is 300 bytes (at most 255) (byte 199)"},
      {"truncated id", bytes.substr(0, bytes.size() - 1), "truncated in message id 1 of 1 (byte 199)"},
      {"truncated sensor", bytes.substr(0, 180), "truncated in sensor 1 of 1 (byte 62)"},
      {"sensor count", bytes.substr(0, 58) + le(2, 4) + bytes.substr(62),
       "announces 2 sensors in 141 bytes, which hold at most 1 (byte 62)"},
      {"trailing byte", bytes + "x", "bytes after the end of the snapshot: 1 (byte 203)"},
  };
  for (const corrupt& c : cases) {
    CAPTURE(c.what);
    const auto decoded = decode_checkpoint(c.bytes);
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.err().message == "checkpoint record: " + c.error);
  }
}

TEST_CASE("a shard restored from a version 1 stream recognises a redelivered id, as a version 1 daemon did") {
  // A window of 4: the snapshot remembered m1..m3, the delta after it m4..m6 (m1 and m2 forgotten).
  const std::vector<std::string> stream{v1_record(1, 5, 5, 1, {"m1", "m2", "m3"}),
                                        v1_record(2, 6, 5, 0, {"m4", "m5", "m6"}, 3)};
  auto restored = restore_shard(shard_identity{1, 0}, stream, alert_rules{}, 4);
  REQUIRE_MESSAGE(restored.has_value(), (restored ? std::string() : restored.err().message));
  CHECK(restored->sequence == 6);
  CHECK(restored->state.alerts_raised() == 3);
  CHECK(ids_of(restored->state.message_ids()) == fps({"m3", "m4", "m5", "m6"}));

  // The broker redelivers m5 and m3 (applied before the checkpoint) and m2 (forgotten); m7 is new.
  const sensor_key key{json_id{10}, json_id{-100}, json_id{std::string("s")}};
  batch_builder batch;
  batch.add(key, 10, "m5").add(key, 11, "m3").add(key, 12, "m2").add(key, 13, "m7");
  const auto out = restored->state.apply(batch.take());
  CHECK(out.duplicates == 2);
  CHECK(out.applied == 2);
  CHECK(restored->state.table().find(key)->stats.count() == 3);  // 1 restored + m2 + m7
  CHECK(restored->state.table().find(key)->last_reading == 13);

  // What it checkpoints next is version 4, and restores to the same window.
  record_writer owner{1, 0, "a", 1};
  owner.continue_after(6, 5);
  const std::string next = owner.snapshot(restored->state.take_snapshot());
  CHECK(next.substr(4, 2) == le(4, 2));
  std::vector<std::string> longer = stream;
  longer.push_back(next);
  auto again = restore_shard(shard_identity{1, 0}, longer, alert_rules{}, 4);
  REQUIRE(again.has_value());
  check_same_state(again->state, restored->state);
  CHECK(ids_of(again->state.message_ids()) == fps({"m5", "m6", "m2", "m7"}));
}

} // namespace checkpoint_v1_test
