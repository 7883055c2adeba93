// One shard's state: readings applied in order, images taken (snapshot, delta) and restored.
#include "state_builders.hpp"

#include "telluride/state/shard_state.hpp"

#include <doctest/doctest.h>

#include <cfloat>
#include <string>
#include <vector>

using namespace state_test;

namespace {

alert_rules rules_above_100_after_3() {
  alert_rules rules;
  rules.thresholds = {{"default", 100.0}};
  rules.alert_after = 3;
  return rules;
}

std::vector<std::string> keys_of(const shard_image& image) {
  std::vector<std::string> out;
  for (const sensor_record& record : image.sensors)
    out.push_back(to_string(record.aggregate.key));
  return out;
}

} // namespace

TEST_CASE("readings are counted once per message id, alert in order and merge per sensor") {
  shard_state shard{rules_above_100_after_3(), 16};
  batch_builder batch;
  batch.add(key_of(1), 101, "m1").add(key_of(2), 5, "m2").add(key_of(1), 102, "m3").add(key_of(1), 102, "m3");
  auto out = shard.apply(batch.take());
  CHECK(out.applied == 3);
  CHECK(out.duplicates == 1);
  CHECK(out.refused.empty());
  CHECK(out.alerts.empty());
  batch.add(key_of(1), 103, "m4").add(key_of(1), 50, "m5").add(key_of(2), 7);
  out = shard.apply(batch.take());
  CHECK(out.applied == 3);
  REQUIRE(out.alerts.size() == 1);
  CHECK(out.alerts[0].key == key_of(1));
  CHECK(out.alerts[0].reading == 103);
  CHECK(shard.alerts_raised() == 1);
  CHECK(shard.alerts().consecutive(key_of(1)) == 0);  // 50 reset it
  const sensor_aggregate* one = shard.table().find(key_of(1));
  REQUIRE(one != nullptr);
  CHECK(one->stats.count() == 4);
  CHECK(one->stats.mean() == 89);
  CHECK(one->last_reading == 50);
  CHECK(shard.table().find(key_of(2))->stats.count() == 2);
  CHECK(ids_of(shard.message_ids()) == fps({"m1", "m2", "m3", "m4", "m5"}));
}

TEST_CASE("a quota refuses new sensors' readings at their positions and keeps their ids unseen") {
  shard_state shard{alert_rules{}, 16};
  sensor_quota quota{1};
  batch_builder batch;
  batch.add(key_of(1), 1, "a").add(key_of(2), 2, "b").add(key_of(1), 3, "c").add(key_of(2), 4, "d");
  auto out = shard.apply(batch.take(), &quota);
  CHECK(out.applied == 2);
  CHECK(out.refused == std::vector<std::size_t>{1, 3});
  CHECK(ids_of(shard.message_ids()) == fps({"a", "c"}));
  CHECK(quota.taken() == 1);
  CHECK(shard.table().size() == 1);
}

TEST_CASE("a snapshot holds every sensor in order of first sight with its counter, and every id") {
  shard_state shard{rules_above_100_after_3(), 3};
  batch_builder batch;
  batch.add(string_key_of(7), 150, "a").add(key_of(1), 1e308, "b").add(string_key_of(7), 160, "c");
  batch.add(key_of(2), -1e308, "d").add(key_of(1), -1e308, "e");
  shard.apply(batch.take());
  const shard_image image = shard.take_snapshot();
  CHECK(keys_of(image) == std::vector<std::string>{R"("line-a"/100/"s-7")", "10/100/1", "10/100/2"});
  CHECK(image.sensors[0].consecutive_warnings == 2);  // mid-excursion: the alert is one reading away
  CHECK(image.sensors[1].consecutive_warnings == 0);  // -1e308 reset it
  CHECK(image.sensors[1].aggregate.stats.count() == 2);
  CHECK(image.sensors[1].aggregate.stats.mean() == 0);
  CHECK(image.sensors[2].aggregate.last_reading == -1e308);
  CHECK(image.message_ids == fps({"c", "d", "e"}));  // the window holds 3
  CHECK(image.alerts_raised == 0);
  CHECK_FALSE(shard.has_changes());
  CHECK(shard.take_delta().sensors.empty());
}

TEST_CASE("a delta holds the sensors changed and the ids remembered since the previous image") {
  shard_state shard{rules_above_100_after_3(), 100};
  batch_builder batch;
  batch.add(key_of(1), 1, "a").add(key_of(2), 2, "b").add(key_of(3), 3, "c");
  shard.apply(batch.take());
  shard.take_snapshot();

  batch.add(key_of(3), 4, "d").add(key_of(1), 5, "e").add(key_of(3), 6, "f").add(key_of(2), 7, "a");
  const auto out = shard.apply(batch.take());
  CHECK(out.duplicates == 1);
  CHECK(shard.has_changes());
  shard_image delta = shard.take_delta();
  // Sensor 2's only reading was a duplicate: it is in the delta unchanged (harmless).
  CHECK(keys_of(delta) == std::vector<std::string>{"10/100/3", "10/100/1", "10/100/2"});
  CHECK(delta.sensors[0].aggregate.stats.count() == 3);  // whole records, not increments
  CHECK(delta.sensors[0].aggregate.last_reading == 6);
  CHECK(delta.sensors[2].aggregate.stats.count() == 1);
  CHECK(delta.message_ids == fps({"d", "e", "f"}));

  batch.add(key_of(4), 8, "g");
  shard.apply(batch.take());
  delta = shard.take_delta();
  CHECK(keys_of(delta) == std::vector<std::string>{"10/100/4"});
  CHECK(delta.message_ids == fps({"g"}));
  CHECK_FALSE(shard.has_changes());
  CHECK(shard.take_delta().sensors.empty());
}

TEST_CASE("a delta after more ids than the window holds carries the ones it still remembers") {
  shard_state shard{alert_rules{}, 4};
  batch_builder batch;
  for (int i = 0; i < 10; ++i)
    batch.add(key_of(1), i, "id-" + std::to_string(i));
  shard.apply(batch.take());
  const shard_image delta = shard.take_delta();
  CHECK(delta.message_ids == fps({"id-6", "id-7", "id-8", "id-9"}));
}

TEST_CASE("the publisher's changed aggregates and the images are tracked apart") {
  shard_state shard{alert_rules{}, 16};
  batch_builder batch;
  batch.add(key_of(1), 1).add(key_of(2), 2);
  shard.apply(batch.take());
  CHECK(shard.take_delta().sensors.size() == 2);
  int published = 0;
  shard.take_changed([&](const sensor_aggregate&) { ++published; });
  CHECK(published == 2);
  batch.add(key_of(2), 3);
  shard.apply(batch.take());
  published = 0;
  shard.take_changed([&](const sensor_aggregate&) { ++published; });
  CHECK(published == 1);
  CHECK(shard.take_delta().sensors.size() == 1);  // taking the publisher's left the image's
}

TEST_CASE("a shard restored from a snapshot is the live one, and it publishes every sensor once") {
  shard_state live{rules_above_100_after_3(), 8};
  batch_builder batch;
  batch.add(key_of(1), 101, "a").add(string_key_of(2), DBL_MAX, "b").add(key_of(1), 102, "c");
  batch.add(string_key_of(2), -DBL_MAX, "d").add(key_of(3), 4.9e-324, "e");
  live.apply(batch.take());
  shard_state restored{rules_above_100_after_3(), 8};
  restored.restore(live.take_snapshot());
  check_same_state(restored, live);
  CHECK_FALSE(restored.has_changes());
  int published = 0;
  restored.take_changed([&](const sensor_aggregate&) { ++published; });
  CHECK(published == 3);

  // The same next readings: the same alert (sensor 1 was at 2 warnings), the same duplicates.
  batch.add(key_of(1), 103, "f").add(key_of(3), 1, "c").add(key_of(1), 1, "a");
  const auto batch_readings = batch.take();
  const auto live_out = live.apply(batch_readings);
  const auto restored_out = restored.apply(batch_readings);
  CHECK(restored_out.applied == live_out.applied);
  CHECK(restored_out.duplicates == 2);
  CHECK(live_out.duplicates == 2);
  REQUIRE(restored_out.alerts.size() == 1);
  REQUIRE(live_out.alerts.size() == 1);
  CHECK(to_json_text(restored_out.alerts[0]) == to_json_text(live_out.alerts[0]));
  check_same_state(restored, live);
}

TEST_CASE("restoring a snapshot replaces everything the shard held") {
  shard_state shard{rules_above_100_after_3(), 8};
  batch_builder batch;
  batch.add(key_of(9), 150, "old-1").add(key_of(9), 150, "old-2");
  shard.apply(batch.take());
  shard_image image;
  image.alerts_raised = 4;
  image.sensors = {record_of(key_of(1), 3, 1)};
  image.message_ids = fps({"x", "y"});
  shard.restore(image);
  CHECK(shard.table().size() == 1);
  CHECK(shard.table().find(key_of(9)) == nullptr);
  CHECK(shard.alerts().consecutive(key_of(9)) == 0);
  CHECK(shard.alerts().consecutive(key_of(1)) == 1);
  CHECK(ids_of(shard.message_ids()) == fps({"x", "y"}));
  CHECK(shard.alerts_raised() == 4);
  CHECK_FALSE(shard.has_changes());
}

TEST_CASE("a delta upserts whole records, appends ids through the window and sets alerts_raised") {
  shard_state shard{rules_above_100_after_3(), 3};
  shard_image snapshot;
  snapshot.sensors = {record_of(key_of(1), 2, 2), record_of(key_of(2), 1)};
  snapshot.message_ids = fps({"a", "b"});
  snapshot.alerts_raised = 1;
  shard.restore(snapshot);
  shard_image delta;
  delta.sensors = {record_of(key_of(1), 5, 0), record_of(key_of(3), 1, 1)};
  delta.message_ids = fps({"c", "d"});
  delta.alerts_raised = 2;
  shard.apply(delta);
  CHECK(shard.table().size() == 3);
  CHECK(shard.table().find(key_of(1))->stats.count() == 5);  // replaced, not merged
  CHECK(shard.table().find(key_of(2))->stats.count() == 1);
  CHECK(shard.alerts().consecutive(key_of(1)) == 0);
  CHECK(shard.alerts().consecutive(key_of(3)) == 1);
  CHECK(ids_of(shard.message_ids()) == fps({"b", "c", "d"}));
  CHECK(shard.alerts_raised() == 2);
  CHECK_FALSE(shard.has_changes());
}

TEST_CASE("a reading without a message_id is never taken for a duplicate nor remembered") {
  shard_state shard{alert_rules{}, 4};
  batch_builder batch;
  batch.add(key_of(1), 1).add(key_of(1), 1).add(key_of(1), 2, "m1").add(key_of(1), 1);
  auto out = shard.apply(batch.take());
  CHECK(out.applied == 4);
  CHECK(out.duplicates == 0);
  batch.add(key_of(1), 1).add(key_of(1), 2, "m1");
  out = shard.apply(batch.take());
  CHECK(out.applied == 1);
  CHECK(out.duplicates == 1);
  CHECK(shard.table().find(key_of(1))->stats.count() == 5);
  CHECK(ids_of(shard.message_ids()) == fps({"m1"}));
}

TEST_CASE("each sensor counts the alerts raised for it, and its records carry the count") {
  shard_state shard{rules_above_100_after_3(), 64};
  batch_builder batch;
  // Sensor 1: two excursions of three (two alerts); sensor 2: one long excursion (one alert);
  // sensor 3: never above.
  for (double v : {101, 102, 103, 50, 101, 102, 103})
    batch.add(key_of(1), v);
  for (double v : {101, 102, 103, 104, 105})
    batch.add(string_key_of(2), v);
  batch.add(key_of(3), 100);
  auto out = shard.apply(batch.take());
  CHECK(out.alerts.size() == 3);
  CHECK(shard.alerts_raised() == 3);
  CHECK(shard.alerts().raised_for(key_of(1)) == 2);
  CHECK(shard.alerts().raised_for(string_key_of(2)) == 1);
  CHECK(shard.alerts().raised_for(key_of(3)) == 0);
  CHECK(shard.alerts().sensors_alerted() == 2);

  const shard_image snapshot = shard.take_snapshot();
  REQUIRE(snapshot.sensors.size() == 3);
  CHECK(snapshot.sensors[0].alerts == 2);
  CHECK(snapshot.sensors[1].alerts == 1);
  CHECK(snapshot.sensors[2].alerts == 0);

  // Sensor 2 comes back below, then alerts again: its delta record carries 2.
  for (double v : {1, 101, 102, 103})
    batch.add(string_key_of(2), v);
  shard.apply(batch.take());
  const shard_image delta = shard.take_delta();
  REQUIRE(delta.sensors.size() == 1);
  CHECK(delta.sensors[0].alerts == 2);
  CHECK(delta.alerts_raised == 4);

  // Restored from the snapshot and the delta, the counts go on from where they were.
  shard_state restored{rules_above_100_after_3(), 64};
  restored.restore(snapshot);
  CHECK(restored.alerts().raised_for(key_of(1)) == 2);
  CHECK(restored.alerts().raised_for(string_key_of(2)) == 1);
  restored.apply(delta);
  check_same_state(restored, shard);
  for (double v : {50, 101, 102, 103})
    batch.add(key_of(1), v);
  const auto readings = batch.take();
  shard.apply(readings);
  restored.apply(readings);
  CHECK(restored.alerts().raised_for(key_of(1)) == 3);
  check_same_state(restored, shard);
}
