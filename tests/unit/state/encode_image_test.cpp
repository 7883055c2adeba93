// A checkpoint encoded straight from the shard state (shard_state::encode_image, what the
// checkpoint rounds write) is byte for byte the record of the image take_snapshot or take_delta
// gives, encoded by encode_checkpoint; and the encoder words a broken rule the same way.
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

TEST_CASE("a snapshot and the deltas after it encode straight from the state as from their images") {
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

  // More ids than the window holds since the snapshot: the delta keeps the latest 8.
  for (int i = 0; i < 12; ++i) {
    std::string id = "n";
    id += std::to_string(i);
    batch.add(i % 2 == 0 ? string_key_of(2) : key_of(4), i, std::move(id));
  }
  apply_both(direct, copied, batch);
  auto delta = direct.encode_image(header_of(record_kind::delta, 6, 5));
  REQUIRE(delta.has_value());
  auto expected_delta = encode_checkpoint({header_of(record_kind::delta, 6, 5), copied.take_delta()});
  REQUIRE(expected_delta.has_value());
  CHECK(*delta == *expected_delta);
  auto decoded = decode_checkpoint(*delta);
  REQUIRE(decoded.has_value());
  CHECK(decoded->image.sensors.size() == 2);
  CHECK(decoded->image.message_ids.size() == 8);
  CHECK(decoded->image.alerts_raised == 1);

  // Nothing changed since: an empty delta, still equal.
  auto empty = direct.encode_image(header_of(record_kind::delta, 7, 5));
  auto expected_empty = encode_checkpoint({header_of(record_kind::delta, 7, 5), copied.take_delta()});
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
