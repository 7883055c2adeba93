// A checkpoint encoded straight from the shard state (shard_state::encode_image, what the
// checkpoint rounds write) is the record of the image take_snapshot or take_delta gives,
// encoded by encode_checkpoint: byte for byte for a snapshot; a delta leaves out the stats
// fields that did not move since the records before, and decoded against the state those
// restore it is that record again. The encoder words a broken rule as encode_checkpoint does.
#include "state_builders.hpp"

#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/shard_state.hpp"

#include <doctest/doctest.h>

#include <string>

// Its own namespace: the unity build compiles several test files as one.
namespace encode_image_test {

using namespace state_test;

record_header header_of(record_kind kind, std::uint64_t sequence, std::uint64_t base) {
  return record_header{kind, 4, 3, 2, sequence, base, 1764600000000, "node-ü"};
}

/// Applies the same batch to both states.
void apply_both(shard_state& a, shard_state& b, batch_builder& batch) {
  auto readings = batch.take();
  a.apply(readings);
  b.apply(readings);
}

/// `delta` decoded against `base` (the state its records restore) is `expected` whole, and
/// folds into `base`.
void check_delta(const std::string& delta, const shard_image& expected, const record_header& header,
                 shard_state& base) {
  const auto decoded = decode_checkpoint(delta, &base.table());
  REQUIRE_MESSAGE(decoded.has_value(), (decoded ? std::string() : decoded.err().message));
  CHECK(encode_checkpoint(*decoded).value() == encode_checkpoint({header, expected}).value());
  base.apply(decoded->image);
}

TEST_CASE("a snapshot encodes straight from the state as from its image, and a delta keeps the fields that did not move") {
  alert_rules rules;
  rules.thresholds = {{"default", 100.0}};
  rules.alert_after = 2;
  shard_state direct{rules, 8};
  shard_state copied{rules, 8};
  batch_builder batch;
  batch.add(key_of(1), 101, "m1").add(string_key_of(2), 5, "m2").add(key_of(1), 102, "m3").add(key_of(3), -1e308);
  apply_both(direct, copied, batch);

  auto snapshot = direct.encode_image(header_of(record_kind::snapshot, 5, 5));
  REQUIRE(snapshot.has_value());
  auto expected_snapshot = encode_checkpoint({header_of(record_kind::snapshot, 5, 5), copied.take_snapshot()});
  REQUIRE(expected_snapshot.has_value());
  CHECK(*snapshot == *expected_snapshot);
  CHECK_FALSE(direct.has_changes());
  shard_state restored{rules, 8};  // what a restore reads
  restored.restore(decode_checkpoint(*snapshot).value().image);

  // More ids than the window holds since the snapshot: the delta keeps the latest 8. Sensor 2
  // reads 0..10 around its 5: a new min and max, the same origin and frame (16 bytes fewer);
  // sensor 4 is new: whole.
  for (int i = 0; i < 12; ++i) {
    std::string id = "n";
    id += std::to_string(i);
    batch.add(i % 2 == 0 ? string_key_of(2) : key_of(4), i, std::move(id));
  }
  apply_both(direct, copied, batch);
  const record_header delta_header = header_of(record_kind::delta, 6, 5);
  auto delta = direct.encode_image(delta_header);
  REQUIRE(delta.has_value());
  const shard_image expected_delta = copied.take_delta();
  CHECK(expected_delta.sensors.size() == 2);
  CHECK(expected_delta.message_ids.size() == 8);
  CHECK(expected_delta.alerts_raised == 1);
  CHECK(delta->size() == encode_checkpoint({delta_header, expected_delta}).value().size() - 2 * 8);
  CHECK(decode_checkpoint(*delta).err().message ==
        "checkpoint record: keeps fields of the state its delta builds on, which was not given in sensor 1 of 2 (byte 68)");
  check_delta(*delta, expected_delta, delta_header, restored);

  // Readings within both sensors' ranges: each keeps all four fields (32 bytes fewer).
  batch.add(string_key_of(2), 7, "p1").add(key_of(4), 3, "p2");
  apply_both(direct, copied, batch);
  const record_header next_header = header_of(record_kind::delta, 7, 5);
  auto next = direct.encode_image(next_header);
  REQUIRE(next.has_value());
  const shard_image expected_next = copied.take_delta();
  CHECK(next->size() == encode_checkpoint({next_header, expected_next}).value().size() - 2 * 32);
  check_delta(*next, expected_next, next_header, restored);

  // The restored state writes the deltas the live one writes: it knows what the records hold.
  batch.add(key_of(1), 150, "q1").add(key_of(4), 2.5, "q2");
  apply_both(direct, restored, batch);
  CHECK(direct.encode_image(header_of(record_kind::delta, 8, 5)).value() ==
        restored.encode_image(header_of(record_kind::delta, 8, 5)).value());

  // Nothing changed since: an empty delta, equal to the image's.
  auto empty = direct.encode_image(header_of(record_kind::delta, 9, 5));
  auto expected_empty = encode_checkpoint({header_of(record_kind::delta, 9, 5), copied.take_delta()});
  REQUIRE(empty.has_value());
  REQUIRE(expected_empty.has_value());
  CHECK(*empty == *expected_empty);
}

TEST_CASE("the encoder refuses what encode_checkpoint refuses, in its words") {
  shard_state state{alert_rules{}, 8};
  auto broken = state.encode_image(record_header{record_kind::delta, 4, 3, 2, 6, 6, 0, "a"});
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.err().message == "checkpoint record: delta 6 builds on base 6, which does not come before it");

  // A message id of any length is its fingerprint: 8 bytes.
  batch_builder batch;
  batch.add(key_of(1), 1, std::string(256, 'x'));
  state.apply(batch.take());
  auto long_id = state.encode_image(header_of(record_kind::snapshot, 1, 1));
  REQUIRE(long_id.has_value());
  auto decoded = decode_checkpoint(*long_id);
  REQUIRE(decoded.has_value());
  CHECK(decoded->image.message_ids == fps({std::string(256, 'x')}));

  checkpoint_encoder short_of_ids{header_of(record_kind::snapshot, 1, 1), 0, 1};
  auto ended = std::move(short_of_ids).finish();
  REQUIRE_FALSE(ended.has_value());
  CHECK(ended.err().message == "checkpoint record: the image ended before every announced sensor and id");
}

} // namespace encode_image_test
