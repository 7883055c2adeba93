// The daemon's sensor tracker: counted once, alerts, and the bound on tracked sensors, without
// actors or a broker.
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/state/inherited_state.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

using telluride::alert_rules;
using telluride::decoded_reading;
using telluride::json_id;
using telluride::sensor_aggregate;
using telluride::sensor_key;
using telluride::sensor_tracker;

namespace {

constexpr std::size_t shards = 16;

sensor_key key_of(std::int64_t sensor) {
  return sensor_key{json_id{10}, json_id{100}, json_id{sensor}};
}

/// Readings that live as long as the batches pointing at them.
class readings {
public:
  /// A reading with the AMQP message_id `id` (empty: none).
  const decoded_reading& make(std::int64_t sensor, double value, std::string_view id = {}) {
    decoded_reading d;
    d.reading.key = key_of(sensor);
    d.reading.value = value;
    d.reading.timestamp = "2026-11-22T10:00:00Z";
    d.hash = hash_value(d.reading.key);
    if (!id.empty())
      d.message_id = telluride::message_id_fingerprint(id);
    return kept_.emplace_back(std::move(d));
  }

private:
  std::deque<decoded_reading> kept_;
};

/// One reading per (sensor, value), with message ids `id_prefix` + position when given.
std::vector<sensor_tracker::input> batch_of(readings& store, const std::vector<std::pair<std::int64_t, double>>& values,
                                            std::vector<std::string>* ids = nullptr) {
  std::vector<sensor_tracker::input> batch;
  for (std::size_t i = 0; i < values.size(); ++i)
    batch.push_back({&store.make(values[i].first, values[i].second,
                                 ids == nullptr ? std::string_view{} : std::string_view{(*ids)[i]})});
  return batch;
}

/// Shards the sensors land in (as the tracker computes them).
std::set<std::uint64_t> shards_of(const std::vector<std::int64_t>& sensors) {
  std::set<std::uint64_t> out;
  for (auto s : sensors)
    out.insert(hash_value(key_of(s)) % shards);
  return out;
}

} // namespace

TEST_CASE("the tracker admits exactly max_sensors distinct sensors over all its shards") {
  sensor_tracker tracker{shards, alert_rules{}, 65536, 10};
  readings store;
  std::vector<std::pair<std::int64_t, double>> first;
  std::vector<std::int64_t> sensors;
  for (std::int64_t s = 1; s <= 10; ++s) {
    first.push_back({s, 1.0});
    sensors.push_back(s);
  }
  REQUIRE(shards_of(sensors).size() > 4);  // the ten sensors spread over many shards
  auto outcome = tracker.apply(batch_of(store, first));
  CHECK(outcome.applied == 10);
  CHECK(outcome.refused.empty());
  CHECK_FALSE(outcome.is_first_refusal);
  CHECK(tracker.tracked() == 10);
  CHECK(tracker.size() == 10);
  CHECK(tracker.max_sensors() == 10);

  // Sensors 11..15 are new: refused, whatever their shard; 1..10 go on being counted.
  std::vector<std::pair<std::int64_t, double>> mixed;
  for (std::int64_t s = 1; s <= 15; ++s)
    mixed.push_back({s, 3.0});
  outcome = tracker.apply(batch_of(store, mixed));
  CHECK(outcome.applied == 10);
  CHECK(outcome.refused == std::vector<std::size_t>{10, 11, 12, 13, 14});
  CHECK(outcome.is_first_refusal);
  CHECK(tracker.refused() == 5);
  CHECK(tracker.tracked() == 10);
  CHECK(tracker.size() == 10);
  for (std::int64_t s = 1; s <= 10; ++s) {
    const auto aggregate = tracker.find(key_of(s));
    REQUIRE(aggregate.has_value());
    CHECK(aggregate->aggregate.stats.count() == 2);
    CHECK(aggregate->aggregate.stats.mean() == 2.0);
    CHECK(aggregate->aggregate.stats.stddev() == 1.0);
  }
  for (std::int64_t s = 11; s <= 15; ++s)
    CHECK_FALSE(tracker.find(key_of(s)).has_value());

  // Later batches: the same answer, and the first refusal is reported once.
  outcome = tracker.apply(batch_of(store, {{12, 5.0}, {3, 5.0}, {16, 5.0}}));
  CHECK(outcome.applied == 1);
  CHECK(outcome.refused == std::vector<std::size_t>{0, 2});
  CHECK_FALSE(outcome.is_first_refusal);
  CHECK(tracker.refused() == 7);
  CHECK(tracker.find(key_of(3))->aggregate.stats.count() == 3);

  // The aggregates published are the ten tracked sensors'.
  CHECK(tracker.take_changed_json().size() == 10);
}

TEST_CASE("a publishing round takes the sensors changed when it began, a chunk at a time, each once") {
  sensor_tracker tracker{shards, alert_rules{}, 65536, 1000};
  readings store;
  std::vector<std::pair<std::int64_t, double>> first;
  for (std::int64_t s = 1; s <= 100; ++s)
    first.emplace_back(s, 1.0);
  tracker.apply(batch_of(store, first));

  auto round = tracker.begin_round();
  CHECK_FALSE(round.is_done());
  std::set<std::string> published;
  const auto take = [&](std::size_t max) {
    auto chunk = tracker.take_changed_json(round, max);
    for (auto& json : chunk)
      CHECK(published.insert(json).second);
    return chunk.size();
  };
  CHECK(take(30) == 30);
  CHECK(take(30) == 30);
  // Every sensor changes again mid-round: those not yet taken go out once, with their new
  // state; those taken wait for the next round.
  std::vector<std::pair<std::int64_t, double>> second;
  for (std::int64_t s = 1; s <= 100; ++s)
    second.emplace_back(s, 3.0);
  tracker.apply(batch_of(store, second));
  CHECK(take(30) == 30);
  CHECK(take(30) == 10);
  CHECK(round.is_done());
  CHECK(take(30) == 0);
  std::size_t with_two = 0;
  for (const auto& json : published)
    with_two += json.find("\"total_reads\":2") != std::string::npos ? 1 : 0;
  CHECK(with_two == 40);

  // The next round holds the 60 taken before they changed again, each once.
  round = tracker.begin_round();
  published.clear();
  CHECK(take(1000) == 60);
  CHECK(round.is_done());
  CHECK(tracker.take_changed_json().empty());
}

TEST_CASE("new sensors of one batch are admitted in batch order until the bound") {
  sensor_tracker tracker{shards, alert_rules{}, 65536, 3};
  readings store;
  // Two readings each of five new sensors, interleaved.
  auto outcome = tracker.apply(batch_of(store, {{7, 1}, {8, 1}, {9, 1}, {7, 2}, {5, 1}, {6, 1}, {5, 2}, {9, 2}}));
  // Which three are admitted depends on shard order, but a sensor is all in or all out.
  CHECK(tracker.tracked() == 3);
  CHECK(outcome.applied + outcome.refused.size() == 8);
  std::set<std::int64_t> admitted;
  for (std::int64_t s : {5, 6, 7, 8, 9})
    if (auto aggregate = tracker.find(key_of(s))) {
      admitted.insert(s);
      CHECK(aggregate->aggregate.stats.count() == (s == 6 || s == 8 ? 1u : 2u));
    }
  CHECK(admitted.size() == 3);
  std::uint64_t counted = 0;
  for (std::int64_t s : admitted)
    counted += s == 6 || s == 8 ? 1 : 2;
  CHECK(outcome.applied == counted);
}

TEST_CASE("a refused reading's message id is not remembered: sent again it is refused again") {
  sensor_tracker tracker{shards, alert_rules{}, 65536, 1};
  readings store;
  std::vector<std::string> first{"a"};
  CHECK(tracker.apply(batch_of(store, {{1, 1.0}}, &first)).applied == 1);
  std::vector<std::string> ids{"a", "b"};
  auto outcome = tracker.apply(batch_of(store, {{1, 1.0}, {2, 1.0}}, &ids));
  CHECK(outcome.applied == 0);
  CHECK(outcome.duplicates == 1);  // "a" was counted before
  CHECK(outcome.refused == std::vector<std::size_t>{1});
  outcome = tracker.apply(batch_of(store, {{2, 1.0}}, &ids));
  CHECK(outcome.duplicates == 0);
  CHECK(outcome.refused == std::vector<std::size_t>{0});
  CHECK(tracker.refused() == 2);
}

TEST_CASE("duplicates inside one batch are counted once, beside refused readings") {
  sensor_tracker tracker{shards, alert_rules{}, 65536, 2};
  readings store;
  std::vector<std::string> first_ids{"v"};
  CHECK(tracker.apply(batch_of(store, {{1, 4.0}}, &first_ids)).applied == 1);
  // Sensor 1 is known; sensors 2 and 3 are new and one place is left.
  std::vector<std::string> ids{"x", "y", "x", "z", "w"};
  auto outcome = tracker.apply(batch_of(store, {{1, 2.0}, {2, 4.0}, {1, 2.0}, {1, 6.0}, {3, 1.0}}, &ids));
  CHECK(outcome.duplicates == 1);
  CHECK(outcome.applied == 3);
  CHECK(outcome.refused.size() == 1);
  CHECK(tracker.tracked() == 2);
  const auto one = tracker.find(key_of(1));
  REQUIRE(one.has_value());
  CHECK(one->aggregate.stats.count() == 3);
  CHECK(one->aggregate.stats.mean() == 4.0);
  CHECK(one->aggregate.last_reading == 6.0);
  CHECK(tracker.find(key_of(2)).has_value() != tracker.find(key_of(3)).has_value());
}

TEST_CASE("readings of a refused sensor raise no alert and keep no counter") {
  alert_rules rules;
  rules.thresholds = {{"default", 10.0}};
  rules.alert_after = 2;
  sensor_tracker tracker{shards, rules, 65536, 1};
  readings store;
  CHECK(tracker.apply(batch_of(store, {{1, 11}})).applied == 1);
  auto outcome = tracker.apply(batch_of(store, {{2, 11}, {1, 12}, {2, 12}, {2, 13}}));
  CHECK(outcome.applied == 1);
  CHECK(outcome.refused == std::vector<std::size_t>{0, 2, 3});
  REQUIRE(outcome.alerts.size() == 1);
  CHECK(outcome.alerts[0].key == key_of(1));
  CHECK(outcome.alerts[0].reading == 12);
  CHECK(tracker.alerts_raised() == 1);
}

TEST_CASE("a bound as large as the sensors changes nothing") {
  sensor_tracker tracker{shards, alert_rules{}, 65536, 1000};
  readings store;
  std::vector<std::pair<std::int64_t, double>> values;
  for (std::int64_t s = 0; s < 1000; ++s)
    values.push_back({s, static_cast<double>(s)});
  for (std::size_t i = 0; i < values.size(); i += 100) {
    auto outcome = tracker.apply(batch_of(store, {values.begin() + static_cast<long>(i), values.begin() + static_cast<long>(i + 100)}));
    CHECK(outcome.applied == 100);
    CHECK(outcome.refused.empty());
  }
  CHECK(tracker.tracked() == 1000);
  CHECK(tracker.refused() == 0);
  CHECK(tracker.apply(batch_of(store, {{1000, 1.0}})).refused == std::vector<std::size_t>{0});
}

TEST_CASE("the tracker answers each sensor's count of alerts raised, found or visited") {
  alert_rules rules;
  rules.thresholds = {{"default", 10.0}};
  rules.alert_after = 2;
  sensor_tracker tracker{shards, rules, 65536, 100};
  readings store;
  // Sensor 1 alerts twice (two excursions), sensor 2 once (one long excursion), sensor 3 never.
  auto outcome = tracker.apply(
    batch_of(store, {{1, 11}, {2, 11}, {1, 12}, {2, 12}, {2, 13}, {1, 1}, {3, 11}, {1, 11}, {1, 12}, {2, 14}}));
  CHECK(outcome.alerts.size() == 3);
  CHECK(tracker.alerts_raised() == 3);
  CHECK(tracker.find(key_of(1))->alerts == 2);
  CHECK(tracker.find(key_of(2))->alerts == 1);
  CHECK(tracker.find(key_of(3))->alerts == 0);
  CHECK(tracker.find(key_of(1))->aggregate.stats.count() == 5);
  std::map<std::int64_t, std::uint64_t> visited;
  tracker.for_each_sensor([&](const sensor_aggregate& a, std::uint64_t alerts) {
    visited[a.key.key().sensor_id.integer()] = alerts;
  });
  CHECK(visited == std::map<std::int64_t, std::uint64_t>{{1, 2}, {2, 1}, {3, 0}});
}

TEST_CASE("total_reads counts the readings in every shard's aggregates, and inherited sensors not met since") {
  sensor_tracker tracker{shards, alert_rules{}, 65536, 100};
  readings store;
  CHECK(tracker.total_reads() == 0);
  tracker.apply(batch_of(store, {{1, 1}, {2, 2}, {1, 3}, {3, 4}}));
  CHECK(tracker.total_reads() == 4);

  // Inherited (a change of the number of shards): sensor 1 with 10 readings, sensor 9 with 5.
  telluride::shard_image image;
  for (auto [sensor, count] : {std::pair<std::int64_t, int>{1, 10}, {9, 5}}) {
    telluride::sensor_record record;
    record.aggregate.key = key_of(sensor);
    for (int i = 0; i < count; ++i)
      record.aggregate.stats.add(1.0);
    image.sensors.push_back(record);
  }
  sensor_tracker fresh{shards, alert_rules{}, 65536, 100};
  fresh.inherit_from(std::make_shared<const telluride::inherited_state>(std::move(image)));
  CHECK(fresh.total_reads() == 15);
  fresh.apply(batch_of(store, {{1, 1}}));  // met again: its aggregate goes on from the inherited one
  CHECK(fresh.find(key_of(1))->aggregate.stats.count() == 11);
  CHECK(fresh.total_reads() == 16);
}

TEST_CASE("readings without a message_id are all counted, those with one once") {
  sensor_tracker tracker{shards, alert_rules{}, 65536, 100};
  readings store;
  std::vector<std::string> none{"", "", ""};
  CHECK(tracker.apply(batch_of(store, {{1, 1}, {1, 1}, {1, 1}}, &none)).applied == 3);
  std::vector<std::string> ids{"a", "a", ""};
  auto outcome = tracker.apply(batch_of(store, {{1, 1}, {1, 1}, {1, 1}}, &ids));
  CHECK(outcome.applied == 2);
  CHECK(outcome.duplicates == 1);
  CHECK(tracker.find(key_of(1))->aggregate.stats.count() == 5);
}
