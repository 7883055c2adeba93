// With K > 1 shards a reading's shard is the queue it was delivered on: its acknowledger says
// which (shard_tag.hpp), and the tracker applies it to that shard's slot (sensor_tracker,
// routing by_layout), whatever its sensor's hash; a shard given up is forgotten alone.
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/daemon/shard_tag.hpp"

#include <causeway/testing.hpp>

#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <string_view>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_routing_test {

using namespace telluride;

namespace {

sensor_key key_of(std::int64_t sensor) {
  return sensor_key{json_id{1}, json_id{2}, json_id{sensor}};
}

struct reading_store {
  std::deque<decoded_reading> kept;
  const decoded_reading& make(std::int64_t sensor, double value, std::string_view id) {
    decoded_reading d;
    d.message_id = message_id_fingerprint(id);
    d.reading.key = key_of(sensor);
    d.reading.value = value;
    d.reading.timestamp = "2026-12-01T10:00:00Z";
    d.hash = hash_value(d.reading.key);
    return kept.emplace_back(std::move(d));
  }
};

causeway::message delivered_through(const std::shared_ptr<causeway::acknowledger>& to) {
  causeway::message m{"{}"};
  m.ack.to = to;
  return m;
}

} // namespace

TEST_CASE("a message's shard is the one its channel's acknowledger was tagged with, and an untagged one is 0") {
  auto channel = std::make_shared<causeway::testing::recording_acknowledger>();
  auto shard_5 = tag_with_shard(5, {})(channel);
  auto shard_9 = tag_with_shard(9, {})(channel);
  shard_lookup lookup;
  auto a = delivered_through(shard_5);
  auto b = delivered_through(shard_9);
  auto c = delivered_through(channel);
  CHECK(lookup.of(a) == 5);
  CHECK(lookup.of(a) == 5);  // the same channel again: remembered
  CHECK(lookup.of(b) == 9);
  CHECK(lookup.of(c) == 0);
  CHECK(lookup.of(a) == 5);
  // The tag passes acknowledgements on to what it wraps (here the channel itself).
  std::vector<causeway::message> done;
  done.push_back(delivered_through(shard_5));
  done.back().ack.tag = 42;
  shard_5->ack(done, {});
  CHECK(channel->count() == 1);
  CHECK(channel->records().at(0).tag == 42);
}

TEST_CASE("tag_with_shard puts the tag outside what the source would put in front of the channel") {
  auto channel = std::make_shared<causeway::testing::recording_acknowledger>();
  int wrapped = 0;
  acknowledge_through_fn through = [&wrapped](std::shared_ptr<causeway::acknowledger> inner) {
    ++wrapped;
    return inner;
  };
  auto tagged = tag_with_shard(3, through)(channel);
  CHECK(wrapped == 1);
  REQUIRE(dynamic_cast<shard_tagged_acknowledger*>(tagged.get()) != nullptr);
  CHECK(dynamic_cast<shard_tagged_acknowledger*>(tagged.get())->shard() == 3);
}

TEST_CASE("routed by layout, readings land in the slot of the shard they came from, and a shard is forgotten alone") {
  sensor_tracker tracker{4, sensor_tracker::routing::by_layout, alert_rules{}, 4 * 4096, 1000};
  CHECK(tracker.route() == sensor_tracker::routing::by_layout);
  CHECK(tracker.shard_count() == 4);
  reading_store store;
  // Sensors 1 and 2 came from shard 3, sensor 3 from shard 0: their hashes play no part.
  std::vector<sensor_tracker::input> batch{
    {&store.make(1, 10.0, "m1"), 3}, {&store.make(2, 20.0, "m2"), 3}, {&store.make(3, 30.0, "m3"), 0},
    {&store.make(1, 12.0, "m4"), 3}};
  auto outcome = tracker.apply(batch);
  CHECK(outcome.applied == 4);
  CHECK(tracker.sensors_in(0) == 1);
  CHECK(tracker.sensors_in(1) == 0);
  CHECK(tracker.sensors_in(2) == 0);
  CHECK(tracker.sensors_in(3) == 2);
  auto one = tracker.find(key_of(1));
  REQUIRE(one.has_value());
  CHECK(one->aggregate.stats.count() == 2);
  CHECK(one->aggregate.last_reading == 12.0);
  // A message id is recognised within its shard: the same reading again is not counted.
  auto again = tracker.apply(std::vector<sensor_tracker::input>{{&store.make(1, 12.0, "m4"), 3}});
  CHECK(again.applied == 0);
  CHECK(again.duplicates == 1);

  tracker.clear_shard(3);
  CHECK(tracker.sensors_in(3) == 0);
  CHECK_FALSE(tracker.find(key_of(1)).has_value());
  CHECK_FALSE(tracker.find(key_of(2)).has_value());
  CHECK(tracker.find(key_of(3)).has_value());
  CHECK(tracker.size() == 1);
}

} // namespace shard_routing_test
