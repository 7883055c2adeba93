// Checkpoint records: the documented bytes, exact round trips, and every kind of bad input
// refused with one line.
#include "state_builders.hpp"

#include "telluride/state/checkpoint_record.hpp"

#include <doctest/doctest.h>

#include <cfloat>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace state_test;

namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// The snapshot of one sensor, computed by hand from the format (docs/checkpoints.md): layout
// 1, shard 0, epoch 1, sequence 5, base 5, written at 0, owner "a"; alerts_raised 2; sensor
// 10/-100/"s" with stats of one reading 2.0 (count 1, origin 2, mean 0, m2 0, min 2, max 2,
// sum 2, sum_error 0, inverse_unit 1), last reading 2.0 at 2026-11-22T10:00:00Z, 1 warning,
// 3 alerts; one message id "m1", whose fingerprint is 0xfba57084a7d2e0de. Byte offsets: the
// sensor at 62, kept at 70, its count at 71, doubles from 72 (mean 80, min 96, inverse_unit
// 128), last reading 136, timestamp 144, warnings 152, alerts 153, id count 154, the end at 166.
const std::string one_sensor_header =
    from_hex("544c535204000101000000000000000100000000000000050000000000000005000000000000000000000000000000010061");
const std::string one_sensor_body = from_hex(
    "0200000000000000"                                   // alerts_raised
    "01000000"                                           // sensors
    "0014" "00c701" "010173"                             // ids: 10 (zigzag 20), -100 (zigzag 199), "s"
    "00"                                                 // kept: nothing (a snapshot)
    "01"                                                 // count
    "0000000000000040" "0000000000000000" "0000000000000000"  // origin, mean, m2
    "0000000000000040" "0000000000000040" "0000000000000040"  // min, max, sum
    "0000000000000000" "000000000000f03f"                // sum_error, inverse_unit
    "0000000000000040"                                   // last_reading
    "01" "c0f495b00d" "00" "00"                          // last_timestamp: UTC, 1795341600 s after
                                                         // written_at's 0 s, no fraction
    "01"                                                 // consecutive warnings
    "03"                                                 // alerts
    "01000000" "dee0d2a78470a5fb");                      // message ids: fingerprints

checkpoint_record one_sensor_record() {
  checkpoint_record record;
  record.header = record_header{record_kind::snapshot, 1, 0, 1, 5, 5, 0, "a"};
  record.image.alerts_raised = 2;
  sensor_record sensor;
  sensor.aggregate.key = sensor_key{json_id{10}, json_id{-100}, json_id{std::string("s")}};
  sensor.aggregate.stats.add(2.0);
  sensor.aggregate.last_reading = 2.0;
  sensor.aggregate.last_timestamp = "2026-11-22T10:00:00Z";
  sensor.consecutive_warnings = 1;
  sensor.alerts = 3;
  record.image.sensors.push_back(sensor);
  record.image.message_ids = fps({"m1"});
  return record;
}

std::string encoded(const checkpoint_record& record) {
  auto bytes = encode_checkpoint(record);
  REQUIRE_MESSAGE(bytes.has_value(), (bytes ? std::string() : bytes.err().message));
  return *bytes;
}

/// The bytes with `replacement` written over them at `at`.
std::string patched(std::string bytes, std::size_t at, std::string_view replacement) {
  bytes.replace(at, replacement.size(), replacement);
  return bytes;
}

std::string le32(std::uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

std::string f64(double v) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &v, 8);
  return out;
}

bool is_one_line(std::string_view text) {
  return !text.empty() && text.find_first_of("\n\r") == std::string_view::npos;
}

void check_same_image(const shard_image& actual, const shard_image& expected) {
  CHECK(actual.alerts_raised == expected.alerts_raised);
  REQUIRE(actual.sensors.size() == expected.sensors.size());
  for (std::size_t i = 0; i < expected.sensors.size(); ++i) {
    const sensor_record& a = actual.sensors[i];
    const sensor_record& e = expected.sensors[i];
    CHECK(to_json_text(a.aggregate) == to_json_text(e.aggregate));
    CHECK(same_bits(a.aggregate.stats.raw(), e.aggregate.stats.raw()));
    CHECK(a.aggregate.key == e.aggregate.key);
    CHECK(a.consecutive_warnings == e.consecutive_warnings);
    CHECK(a.alerts == e.alerts);
  }
  CHECK(actual.message_ids == expected.message_ids);
}

} // namespace

TEST_CASE("a takeover record is the documented header, field by field, little-endian") {
  checkpoint_record record;
  record.header = record_header{record_kind::takeover, 8, 3, 2, 11, 7, 1764600000000, "node-b"};
  CHECK(encoded(record) ==
        from_hex("544c5352" "0400" "03" "08000000" "03000000" "0200000000000000" "0b00000000000000"
                 "0700000000000000" "002e5bda9a010000" "0600" "6e6f64652d62"));
  CHECK(to_string(record_kind::takeover) == "takeover");
  CHECK(to_string(record_kind::release) == "release");
}

TEST_CASE("a snapshot is the documented body: tagged ids, raw stats, timestamp, counters, fingerprints") {
  CHECK(message_id_fingerprint("m1") == 0xfba57084a7d2e0deULL);
  const std::string bytes = encoded(one_sensor_record());
  CHECK(bytes.size() == 166);
  CHECK(bytes == one_sensor_header + one_sensor_body);
  const auto decoded = decode_checkpoint(bytes);
  REQUIRE(decoded.has_value());
  CHECK(decoded->header.owner == "a");
  check_same_image(decoded->image, one_sensor_record().image);
}

// A delta of the same sensor after a second reading 2.0, written at 2026-11-22T10:00:01.500Z
// (1795341601500 ms), its reading's timestamp 10:00:01Z: its origin, inverse_unit, min and max
// did not move, so it keeps all four (kept 15) and they come from the state it builds on; the
// timestamp's seconds are written relative to written_at's (0). 56 bytes instead of 88.
const std::string kept_delta = from_hex(
    "544c5352" "0400" "02" "01000000" "00000000" "0100000000000000" "0600000000000000"
    "0500000000000000" "dccab202a2010000" "0100" "61"    // delta 6 on base 5, owner "a"
    "0200000000000000" "01000000"                        // alerts_raised, sensors
    "0014" "00c701" "010173"                             // ids
    "0f"                                                 // kept: origin, inverse_unit, min, max
    "02"                                                 // count
    "0000000000000000" "0000000000000000"                // mean, m2
    "0000000000001040" "0000000000000000"                // sum 4, sum_error
    "0000000000000040"                                   // last_reading
    "01" "00" "00" "00"                                  // last_timestamp: UTC, 0 s after 1795341601 s
    "01" "03"                                            // consecutive warnings, alerts
    "00000000");                                         // no message ids

TEST_CASE("a delta keeps the stats fields that did not move, and decodes against the state it builds on") {
  const checkpoint_record snapshot = one_sensor_record();
  sensor_record sensor = snapshot.image.sensors[0];
  sensor.aggregate.stats.add(2.0);
  sensor.aggregate.last_timestamp = "2026-11-22T10:00:01Z";
  const record_header header{record_kind::delta, 1, 0, 1, 6, 5, 1795341601500, "a"};
  checkpoint_encoder encoder{header, 2, 1};
  encoder.sensor(sensor.aggregate, 1, 3, all_kept_fields);
  encoder.ids(0);
  const auto bytes = std::move(encoder).finish();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == kept_delta);
  CHECK(bytes->size() == checkpoint_header_size + 1 + 12 + 56 + 4);

  CHECK(decode_checkpoint(kept_delta).err().message ==
        "checkpoint record: keeps fields of the state its delta builds on, which was not given in sensor 1 of 1 (byte 62)");
  sensor_table other;
  other.assign(record_of(key_of(7), 1, 0).aggregate);
  CHECK(decode_checkpoint(kept_delta, &other).err().message ==
        "checkpoint record: keeps fields of a sensor the state its delta builds on does not hold in sensor 1 of 1 (byte 62)");

  sensor_table base;
  base.assign(snapshot.image.sensors[0].aggregate);
  const auto decoded = decode_checkpoint(kept_delta, &base);
  REQUIRE_MESSAGE(decoded.has_value(), (decoded ? std::string() : decoded.err().message));
  checkpoint_record whole{header, {2, {sensor}, {}}};
  check_same_image(decoded->image, whole.image);
  // Encoded from the decoded record, the delta is whole: the same sensor, its four doubles back.
  CHECK(encoded(*decoded) == encoded(whole));
  CHECK(encoded(whole).size() == kept_delta.size() + 4 * 8);

  // Only a delta keeps fields, and only these four.
  checkpoint_encoder in_snapshot{snapshot.header, 2, 1};
  in_snapshot.sensor(sensor.aggregate, 1, 3, kept_min);
  CHECK(std::move(in_snapshot).finish().err().message ==
        "checkpoint record: a snapshot's sensor keeps fields (only a delta's may)");
  checkpoint_encoder unknown{header, 2, 1};
  unknown.sensor(sensor.aggregate, 1, 3, 16);
  CHECK(std::move(unknown).finish().err().message ==
        "checkpoint record: kept fields 16 are unknown (1 origin, 2 inverse_unit, 4 min, 8 max)");
}

TEST_CASE("a live shard's snapshot round-trips exactly: string ids, extremes, counters, full window") {
  alert_rules rules;
  rules.thresholds = {{"default", 100.0}};
  shard_state live{rules, 4};
  batch_builder batch;
  batch.add(key_of(1), 1e308, "m1").add(string_key_of(2), -1e308, "m2").add(key_of(1), -1e308, "m3");
  batch.add(key_of(1), 1, "m4").add(string_key_of(2), 150, "m5").add(string_key_of(2), 1e300, "m6");
  batch.add(key_of(3), DBL_MAX, "m7").add(key_of(3), -DBL_MAX, "m8").add(key_of(4), 4.9e-324, "m9");
  batch.add(key_of(4), 101).add(key_of(4), 102).add(key_of(4), 103);
  live.apply(batch.take());
  checkpoint_record record;
  record.header = record_header{record_kind::snapshot, 16, 9, 3, 40, 40, -5, "node-ü"};
  record.image = live.take_snapshot();
  REQUIRE(record.image.message_ids.size() == 4);  // the window is full
  REQUIRE(record.image.sensors[1].consecutive_warnings == 2);
  REQUIRE(record.image.sensors[3].alerts == 1);

  const std::string bytes = encoded(record);
  const auto decoded = decode_checkpoint(bytes);
  REQUIRE(decoded.has_value());
  CHECK(decoded->header.kind == record_kind::snapshot);
  CHECK(decoded->header.layout == 16);
  CHECK(decoded->header.shard == 9);
  CHECK(decoded->header.epoch == 3);
  CHECK(decoded->header.sequence == 40);
  CHECK(decoded->header.base == 40);
  CHECK(decoded->header.written_at_ms == -5);
  CHECK(decoded->header.owner == "node-ü");
  check_same_image(decoded->image, record.image);
  CHECK(decoded->image.sensors[0].aggregate.stats.mean() == 1.0 / 3);
  CHECK(encoded(*decoded) == bytes);
  const auto header = decode_checkpoint_header(bytes);
  REQUIRE(header.has_value());
  CHECK(header->sequence == 40);
}

TEST_CASE("deltas, takeovers and releases round-trip, and encode again to the same bytes") {
  checkpoint_record delta = one_sensor_record();
  delta.header.kind = record_kind::delta;
  delta.header.sequence = 6;
  checkpoint_record takeover;
  takeover.header = record_header{record_kind::takeover, 1024, 1023, UINT64_MAX, 7, 5, INT64_MIN, ""};
  checkpoint_record release;
  release.header = record_header{record_kind::release, 2, 1, 4, 9, 9, INT64_MAX, std::string(255, 'n')};
  for (const checkpoint_record& record : {delta, takeover, release}) {
    CAPTURE(to_string(record.header.kind));
    const std::string bytes = encoded(record);
    const auto decoded = decode_checkpoint(bytes);
    REQUIRE(decoded.has_value());
    CHECK(decoded->header.kind == record.header.kind);
    CHECK(decoded->header.epoch == record.header.epoch);
    CHECK(decoded->header.owner == record.header.owner);
    CHECK(decoded->header.written_at_ms == record.header.written_at_ms);
    check_same_image(decoded->image, record.image);
    CHECK(encoded(*decoded) == bytes);
  }
  CHECK(encoded(takeover).size() == checkpoint_header_size);
}

TEST_CASE("every truncation of a valid record is refused with one line") {
  checkpoint_record record = one_sensor_record();
  record.image.sensors.push_back(record_of(string_key_of(5), 3, 2));
  record.image.message_ids.push_back(message_id_fingerprint("m2"));
  const std::string bytes = encoded(record);
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    CAPTURE(size);
    const auto decoded = decode_checkpoint(std::string_view(bytes).substr(0, size));
    REQUIRE_FALSE(decoded.has_value());
    CHECK(is_one_line(decoded.err().message));
    CHECK(decoded.err().message.starts_with("checkpoint record: "));
  }
  CHECK(decode_checkpoint("").err().message == "checkpoint record: too short for a header: 0 bytes (at least 49)");
  CHECK(decode_checkpoint(bytes.substr(0, 49)).err().message == "checkpoint record: truncated in the owner name (byte 49)");
  CHECK(decode_checkpoint(bytes.substr(0, 100)).err().message ==
        "checkpoint record: announces 2 sensors in 38 bytes, which hold at most 0 (byte 62)");
  CHECK(decode_checkpoint(bytes.substr(0, bytes.size() - 4 - 16 - 1)).err().message ==
        "checkpoint record: truncated in sensor 2 of 2 (byte 154)");
  CHECK(decode_checkpoint(bytes.substr(0, bytes.size() - 1)).err().message ==
        "checkpoint record: announces 2 message ids in 15 bytes, which hold at most 1 (byte " +
            std::to_string(bytes.size() - 16) + ")");
}

TEST_CASE("a corrupt header is refused with what is wrong") {
  const std::string bytes = one_sensor_header + one_sensor_body;
  struct corrupt {
    const char* what;
    std::string bytes;
    std::string error;
  };
  const std::vector<corrupt> cases = {
      {"magic", patched(bytes, 3, "X"), "no TLSR magic (byte 0)"},
      {"version 0", patched(bytes, 4, std::string(1, '\0')), "format version 0 is not supported (this build reads 1 to 4) (byte 4)"},
      {"version 5", patched(bytes, 4, "\x05"), "format version 5 is not supported (this build reads 1 to 4) (byte 4)"},
      {"kind 0", patched(bytes, 6, std::string(1, '\0')), "kind 0 is unknown (1 snapshot, 2 delta, 3 takeover, 4 release, 5 layout) (byte 6)"},
      {"kind 6", patched(bytes, 6, "\x06"), "kind 6 is unknown (1 snapshot, 2 delta, 3 takeover, 4 release, 5 layout) (byte 6)"},
      {"layout 0", patched(bytes, 7, le32(0)), "layout 0 is out of 1..1024"},
      {"layout 1025", patched(bytes, 7, le32(1025)), "layout 1025 is out of 1..1024"},
      {"shard", patched(bytes, 11, le32(1)), "shard 1 is out of 0..0"},
      {"snapshot base", patched(bytes, 31, "\x04"), "snapshot 5 names base 4 (a snapshot is its own base)"},
      {"delta base", patched(bytes, 6, "\x02"), "delta 5 builds on base 5, which does not come before it"},
      {"release base", patched(patched(bytes, 6, "\x04"), 31, "\x06"), "release 5 names base 6, after itself"},
      {"owner size", patched(bytes, 47, from_hex("0001")), "owner name is 256 bytes (at most 255) (byte 49)"},
      {"owner UTF-8", patched(bytes, 49, "\xff"), "owner name is not UTF-8"},
      {"takeover with a body", patched(bytes, 6, "\x03"), "bytes after the end of the takeover: 116 (byte 50)"},
  };
  for (const corrupt& c : cases) {
    CAPTURE(c.what);
    const auto decoded = decode_checkpoint(c.bytes);
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.err().message == "checkpoint record: " + c.error);
    if (std::string_view(c.what) != "takeover with a body")
      CHECK_FALSE(decode_checkpoint_header(c.bytes).has_value());
  }
}

TEST_CASE("a corrupt body is refused naming the sensor or id, and its header still reads") {
  const std::string bytes = one_sensor_header + one_sensor_body;
  checkpoint_record with_ids = one_sensor_record();
  for (std::uint64_t i = 0; i < 10; ++i)
    with_ids.image.message_ids.push_back(i);
  const std::string longer = encoded(with_ids);  // the same bytes up to the ids, more after
  // A timestamp kept as text (an offset is not the UTC form): form 0 at 144, its length at 145.
  checkpoint_record with_text = with_ids;
  with_text.image.sensors[0].aggregate.last_timestamp = "2026-11-22T10:00:00+00:00";
  const std::string texty = encoded(with_text);
  const std::string as_delta = patched(patched(bytes, 6, "\x02"), 31, "\x04");  // a delta on base 4
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct corrupt {
    const char* what;
    std::string bytes;
    std::string error;
  };
  const std::vector<corrupt> cases = {
      {"sensor count", patched(bytes, 58, le32(UINT32_MAX)), "announces 4294967295 sensors in 104 bytes, which hold at most 2 (byte 62)"},
      {"id tag", patched(bytes, 62, "\x07"), "id tag 7 is unknown in sensor 1 of 1 (byte 62)"},
      {"id size", patched(bytes, 68, from_hex("818040")), "a string id is 1048577 bytes (at most 1048576) in sensor 1 of 1 (byte 62)"},
      {"id UTF-8", patched(bytes, 69, "\xc3"), "a string id is not UTF-8 in sensor 1 of 1 (byte 62)"},
      {"kept in a snapshot", patched(bytes, 70, "\x01"), "a snapshot's sensor keeps fields (only a delta's may) in sensor 1 of 1 (byte 62)"},
      {"kept unknown", patched(as_delta, 70, "\x10"), "kept fields 16 are unknown (1 origin, 2 inverse_unit, 4 min, 8 max) in sensor 1 of 1 (byte 62)"},
      {"kept, no base", patched(as_delta, 70, "\x08"), "keeps fields of the state its delta builds on, which was not given in sensor 1 of 1 (byte 62)"},
      {"count varint", patched(bytes, 71, "\x81"),  // continued into origin's first byte, 0
       "a variable-length integer is not in its shortest form, or above 2^64 - 1 in sensor 1 of 1 (byte 62)"},
      {"mean NaN", patched(bytes, 80, f64(nan)), "running_stats holds a value that is not finite in sensor 1 of 1 (byte 62)"},
      {"min above max", patched(bytes, 96, f64(3)), "running_stats has min above max in sensor 1 of 1 (byte 62)"},
      {"frame", patched(bytes, 128, f64(3)), "running_stats has an inverse_unit that is not a frame in sensor 1 of 1 (byte 62)"},
      {"last reading", patched(bytes, 136, f64(-inf)), "last_reading is not finite in sensor 1 of 1 (byte 62)"},
      {"timestamp form", patched(bytes, 144, "\x05"), "last_timestamp form 5 is unknown in sensor 1 of 1 (byte 62)"},
      {"timestamp size", patched(texty, 145, "\x28"), "last_timestamp is 40 bytes (at most 39) in sensor 1 of 1 (byte 62)"},
      {"timestamp UTF-8", patched(texty, 146, "\x80"), "last_timestamp is not UTF-8 in sensor 1 of 1 (byte 62)"},
      {"id count", patched(bytes, 154, le32(2)), "announces 2 message ids in 8 bytes, which hold at most 1 (byte 158)"},
      {"trailing byte", bytes + "x", "bytes after the end of the snapshot: 1 (byte 166)"},
  };
  for (const corrupt& c : cases) {
    CAPTURE(c.what);
    const auto decoded = decode_checkpoint(c.bytes);
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.err().message == "checkpoint record: " + c.error);
    const auto header = decode_checkpoint_header(c.bytes);
    REQUIRE(header.has_value());
    CHECK(header->sequence == 5);
  }
}

TEST_CASE("encoding refuses what decoding would refuse") {
  struct refused {
    const char* what;
    checkpoint_record record;
    std::string error;
  };
  auto with = [](auto change) {
    checkpoint_record record = one_sensor_record();
    change(record);
    return record;
  };
  const std::vector<refused> cases = {
      {"owner", with([](auto& r) { r.header.owner = std::string(256, 'o'); }), "owner name is 256 bytes (at most 255)"},
      {"owner UTF-8", with([](auto& r) { r.header.owner = "\xff"; }), "owner name is not UTF-8"},
      {"layout", with([](auto& r) { r.header.layout = 0; }), "layout 0 is out of 1..1024"},
      {"shard", with([](auto& r) { r.header.shard = 1; }), "shard 1 is out of 0..0"},
      {"delta base", with([](auto& r) { r.header.kind = record_kind::delta; }), "delta 5 builds on base 5, which does not come before it"},
      {"takeover state", with([](auto& r) { r.header.kind = record_kind::takeover; }), "a takeover record holds no state"},
      {"id UTF-8", with([](auto& r) { r.image.sensors[0].aggregate.key = sensor_key{json_id{1}, json_id{std::string("\xc3(")}, json_id{2}}; }),
       "a string id is not UTF-8"},
  };
  for (const refused& c : cases) {
    CAPTURE(c.what);
    const auto bytes = encode_checkpoint(c.record);
    REQUIRE_FALSE(bytes.has_value());
    CHECK(bytes.err().message == "checkpoint record: " + c.error);
  }
}
