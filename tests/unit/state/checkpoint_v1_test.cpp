// Checkpoint records of format version 1, which daemons before version 2 wrote and users'
// streams still hold: they decode (message id texts taken in as their fingerprints, no alerts
// per sensor), a shard restored from them recognises the same redelivered ids, and they are
// written again as version 2 only.
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

TEST_CASE("a version 1 record encodes again as version 2: 8 bytes more per sensor, 8 per id") {
  const std::vector<std::string> ids{"m1", "", std::string(255, 'x'), "5f3c9a1b2e-77"};
  const std::string v1 = v1_record(1, 5, 5, 2, ids);
  const auto decoded = decode_checkpoint(v1);
  REQUIRE(decoded.has_value());
  CHECK(decoded->image.message_ids == fps({"m1", "", std::string(255, 'x'), "5f3c9a1b2e-77"}));
  const auto v2 = encode_checkpoint(*decoded);
  REQUIRE(v2.has_value());
  CHECK(v2->substr(4, 2) == le(2, 2));
  const std::size_t v1_ids = 2 * 4 + 2 + 0 + 255 + 13;
  CHECK(v2->size() == v1.size() + 2 * 8 - v1_ids + 4 * 8);
  const auto again = decode_checkpoint(*v2);
  REQUIRE(again.has_value());
  CHECK(again->image.message_ids == decoded->image.message_ids);
  CHECK(again->image.sensors[1].alerts == 0);
  CHECK(encode_checkpoint(*again).value() == *v2);  // version 2 is canonical
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

  // What it checkpoints next is version 2, and restores to the same window.
  record_writer owner{1, 0, "a", 1};
  owner.continue_after(6, 5);
  const std::string next = owner.snapshot(restored->state.take_snapshot());
  CHECK(next.substr(4, 2) == le(2, 2));
  std::vector<std::string> longer = stream;
  longer.push_back(next);
  auto again = restore_shard(shard_identity{1, 0}, longer, alert_rules{}, 4);
  REQUIRE(again.has_value());
  check_same_state(again->state, restored->state);
  CHECK(ids_of(again->state.message_ids()) == fps({"m5", "m6", "m2", "m7"}));
}

} // namespace checkpoint_v1_test
