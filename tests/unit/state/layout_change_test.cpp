// A change of the number of shards, in the state: the layout record (its bytes and how a fold
// reads it), the state the new shards inherit, and a shard taking a sensor from it.
#include "record_writer.hpp"

#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/inherited_state.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace layout_change_test {

using namespace state_test;

std::string layout_record(std::uint32_t layout, shard_image image = {}) {
  checkpoint_record record;
  record.header = record_header{record_kind::layout, layout, 0, 0, 0, 0, 1764600000000, "node-a"};
  record.image = std::move(image);
  auto bytes = encode_checkpoint(record);
  REQUIRE_MESSAGE(bytes.has_value(), (bytes ? std::string() : bytes.err().message));
  return std::move(*bytes);
}

shard_image image_with(std::vector<sensor_record> sensors, std::vector<std::uint64_t> ids = {},
                       std::uint64_t alerts = 0) {
  shard_image image;
  image.sensors = std::move(sensors);
  image.message_ids = std::move(ids);
  image.alerts_raised = alerts;
  return image;
}

TEST_CASE("a layout record carries the inherited state, and names shard 0 only") {
  const auto bytes = layout_record(4, image_with({record_of(key_of(1), 3, 0, 2)}, fps({"m1", "m2"}), 7));
  auto decoded = decode_checkpoint(bytes);
  REQUIRE(decoded.has_value());
  CHECK(decoded->header.kind == record_kind::layout);
  CHECK(decoded->header.layout == 4);
  REQUIRE(decoded->image.sensors.size() == 1);
  CHECK(decoded->image.sensors[0].aggregate.stats.count() == 3);
  CHECK(decoded->image.sensors[0].alerts == 2);
  CHECK(decoded->image.message_ids == fps({"m1", "m2"}));
  CHECK(decoded->image.alerts_raised == 7);
  CHECK(to_string(record_kind::layout) == "layout");

  checkpoint_record other;
  other.header = record_header{record_kind::layout, 4, 2, 0, 0, 0, 1764600000000, "node-a"};
  auto refused = encode_checkpoint(other);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.err().message == "checkpoint record: a layout record names shard 2 (it is every shard's: 0)");
}

TEST_CASE("a layout record of the shard's layout starts it afresh, another layout's is ignored") {
  record_writer old_era{4, 1, "a", 1};
  checkpoint_fold fold{shard_identity{4, 1}, alert_rules{}, 64};
  fold.read(old_era.snapshot(image_with({record_of(key_of(1), 5)})));
  fold.read(layout_record(2));  // another layout: nothing changes
  CHECK(fold.state().table().size() == 1);
  CHECK_FALSE(fold.starts_layout());
  CHECK(fold.counts().other_shards == 1);

  fold.read(layout_record(4));  // back to 4 shards: what the earlier life of shard 1 held is gone
  CHECK(fold.state().table().size() == 0);
  CHECK(fold.starts_layout());
  CHECK_FALSE(fold.snapshot().has_value());
  CHECK(fold.last_sequence() == 1);  // sequences go on
  REQUIRE(fold.fence().has_value());
  CHECK(fold.fence()->epoch == 1);

  record_writer next_era{4, 1, "b", 1};
  fold.read(next_era.takeover(1));
  CHECK(fold.starts_layout());
  fold.read(next_era.snapshot(image_with({record_of(key_of(2), 2)})));
  CHECK_FALSE(fold.starts_layout());
  auto restored = std::move(fold).finish();
  REQUIRE(restored.has_value());
  CHECK(restored->state.table().size() == 1);
  CHECK(restored->state.table().find(key_of(2))->stats.count() == 2);
  CHECK(restored->fence->owner == "b");
  CHECK(restored->sequence == 3);
}

TEST_CASE("a delta after a layout record with no snapshot of the new layout is a problem") {
  record_writer old_era{4, 1, "a", 1};
  checkpoint_fold fold{shard_identity{4, 1}, alert_rules{}, 64};
  fold.read(old_era.snapshot(image_with({record_of(key_of(1), 5)})));
  fold.read(layout_record(4));
  fold.read(old_era.delta(image_with({record_of(key_of(1), 6)})));
  REQUIRE(fold.problem().has_value());
  CHECK(fold.problem()->message == "shard 1: delta 2 builds on snapshot 1, which was not read");
}

TEST_CASE("a shard takes an inherited sensor's record the first time it meets the sensor, once") {
  alert_rules rules;
  rules.thresholds = {{"default", 100.0}};
  rules.alert_after = 2;
  sensor_record one = record_of(key_of(1), 3);  // readings 1, 2, 3
  one.consecutive_warnings = 1;
  one.alerts = 4;
  auto inherited = std::make_shared<const inherited_state>(
    image_with({one, record_of(key_of(2), 4, 0, 6)}, fps({"old-1", "old-2"}), 9));
  shard_state shard{rules, 64};
  shard.inherit_from(inherited);
  shard.start_layout(*inherited, true);
  CHECK(shard.alerts_raised() == 9);

  batch_builder batch;
  batch.add(key_of(1), 101, "new-1").add(key_of(3), 10, "new-2").add(key_of(1), 4, "old-2");
  auto out = shard.apply(batch.take());
  CHECK(out.applied == 2);
  CHECK(out.duplicates == 1);  // its id was remembered by the old layout
  REQUIRE(out.alerts.size() == 1);  // the inherited counter (1) and this warning make 2
  CHECK(out.alerts[0].key == key_of(1));
  CHECK(shard.alerts_raised() == 10);
  CHECK(shard.alerts().raised_for(key_of(1)) == 5);  // 4 inherited, and this one
  CHECK(shard.alerts().raised_for(key_of(2)) == 0);  // not met here: still the inheritance's
  CHECK(shard.table().find(key_of(1))->stats.count() == 4);
  CHECK(shard.table().find(key_of(1))->stats.max() == 101);
  CHECK(shard.table().find(key_of(3))->stats.count() == 1);  // not inherited: its own from the start
  CHECK(shard.table().find(key_of(2)) == nullptr);           // never met here: stays inherited

  batch.add(key_of(1), 5, "new-3");
  shard.apply(batch.take());
  CHECK(shard.table().find(key_of(1))->stats.count() == 5);  // taken once, not again

  // A snapshot holds the taken sensor as its own; a restore keeps the inheritance for the others.
  auto image = shard.take_snapshot();
  shard_state restored{rules, 64};
  restored.inherit_from(inherited);
  restored.restore(image);
  batch.add(key_of(2), 5, "new-4").add(key_of(1), 6, "new-5");
  restored.apply(batch.take());
  CHECK(restored.table().find(key_of(2))->stats.count() == 5);
  CHECK(restored.table().find(key_of(1))->stats.count() == 6);
  CHECK(restored.alerts().raised_for(key_of(1)) == 5);  // from its own snapshot record
  CHECK(restored.alerts().raised_for(key_of(2)) == 6);  // taken from the inheritance now
}

TEST_CASE("the next inheritance holds every final sensor, the untaken inherited ones, and the latest ids") {
  const inherited_state before{image_with({record_of(key_of(1), 3, 0, 1), record_of(key_of(9), 2, 0, 8)}, fps({"x"}), 4)};
  std::vector<shard_image> finals;
  finals.push_back(image_with({record_of(key_of(1), 5, 0, 2), record_of(key_of(2), 1)}, fps({"a1", "a2", "a3"}), 6));
  finals.push_back(image_with({record_of(key_of(3), 7, 0, 3)}, fps({"b1", "b2"}), 1));
  const shard_image next = next_inheritance(&before, finals, 4);
  std::vector<std::pair<std::int64_t, std::uint64_t>> sensors;
  std::vector<std::uint64_t> alerts;
  for (const sensor_record& r : next.sensors) {
    sensors.emplace_back(r.aggregate.key.key().sensor_id.integer(), r.aggregate.stats.count());
    alerts.push_back(r.alerts);
  }
  CHECK(sensors == std::vector<std::pair<std::int64_t, std::uint64_t>>{{1, 5}, {2, 1}, {3, 7}, {9, 2}});
  CHECK(alerts == std::vector<std::uint64_t>{2, 0, 3, 8});  // each sensor's count goes with its record
  CHECK(next.message_ids == fps({"a2", "a3", "b1", "b2"}));
  CHECK(next.alerts_raised == 7);
  CHECK(next_inheritance(nullptr, {}, 4).sensors.empty());
}

} // namespace layout_change_test
