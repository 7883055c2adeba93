#include "telluride/domain/batch_fold.hpp"
#include "telluride/domain/sensor_table.hpp"

#include "readings_of.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cfloat>
#include <chrono>
#include <cstdio>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

using telluride::batch_folder;
using telluride::json_id;
using telluride::reading;
using telluride::sensor_aggregate;
using telluride::sensor_key;
using telluride::sensor_table;

namespace {

using telluride::test::fold;
using telluride::test::key_of;
using telluride::test::reading_of;

std::vector<sensor_aggregate> take_changed(sensor_table& table) {
  std::vector<sensor_aggregate> out;
  table.take_changed([&](const sensor_aggregate& a) { out.push_back(a); });
  return out;
}

// Folds one batch into the table, as a batch processor does.
void fold_into(sensor_table& table, const std::vector<reading>& batch) {
  batch_folder folder;
  table.apply(fold(folder, batch));
}

} // namespace

TEST_CASE("a sensor's last timestamp keeps the numbers its reading came with, and loses them with text of another form") {
  sensor_table table;
  fold_into(table, std::vector{reading_of(1, 1.0, "2021-02-12T01:18:51.5Z"), reading_of(1, 2.0, "2021-02-12T01:18:52.25Z")});
  const sensor_aggregate* aggregate = table.find(key_of(1));
  REQUIRE(aggregate != nullptr);
  CHECK(aggregate->last_timestamp == "2021-02-12T01:18:52.25Z");
  CHECK(aggregate->last_timestamp.utc() == telluride::utc_timestamp{1613092732, 25, 2});
  fold_into(table, std::vector{reading_of(1, 3.0, "2021-02-12T01:18:53+01:00")});
  CHECK(aggregate->last_timestamp == "2021-02-12T01:18:53+01:00");
  CHECK_FALSE(aggregate->last_timestamp.utc().has_value());
}

TEST_CASE("take_changed returns the sensors changed since the last call, once") {
  sensor_table table;
  fold_into(table, std::vector{reading_of(1, 1.0), reading_of(2, 2.0)});
  fold_into(table, std::vector{reading_of(3, 3.0), reading_of(1, 4.0)});
  const auto first = take_changed(table);
  REQUIRE(first.size() == 3);
  CHECK(first[0].key == key_of(1));
  CHECK(first[0].stats.count() == 2);
  CHECK(first[1].key == key_of(2));
  CHECK(first[2].key == key_of(3));
  CHECK(take_changed(table).empty());

  fold_into(table, std::vector{reading_of(2, 5.0)});
  const auto second = take_changed(table);
  REQUIRE(second.size() == 1);
  CHECK(second[0].key == key_of(2));
  CHECK(second[0].stats.count() == 2);
  CHECK(second[0].last_reading == 5.0);
  CHECK(table.size() == 3);
}

TEST_CASE("take_changed with a bound takes those that changed first, and the rest stay changed in order") {
  sensor_table table;
  fold_into(table, std::vector{reading_of(1, 1.0), reading_of(2, 2.0), reading_of(3, 3.0), reading_of(4, 4.0)});
  CHECK(table.changed_count() == 4);
  std::vector<double> seen;  // last readings: 1.0 for sensor 1 ... 4.0 for sensor 4
  const auto visit = [&](const sensor_aggregate& a) { seen.push_back(a.last_reading); };
  CHECK(table.take_changed(visit, 2) == 2);
  CHECK(seen == std::vector{1.0, 2.0});
  CHECK(table.changed_count() == 2);

  // Sensor 1 changes again: it goes behind 3 and 4, which changed before it did.
  fold_into(table, std::vector{reading_of(1, 5.0)});
  seen.clear();
  CHECK(table.take_changed(visit, 10) == 3);
  CHECK(seen == std::vector{3.0, 4.0, 5.0});
  CHECK(table.changed_count() == 0);
  CHECK(table.take_changed(visit, 10) == 0);
  CHECK(take_changed(table).empty());
}

TEST_CASE("find gives a sensor's aggregate over all batches, or nothing") {
  sensor_table table;
  CHECK(table.find(key_of(1)) == nullptr);
  fold_into(table, std::vector{reading_of(1, 2.0, "a"), reading_of(1, 4.0, "b")});
  fold_into(table, std::vector{reading_of(1, 4.0, "c"), reading_of(1, 4.0, "d")});
  fold_into(table, std::vector{reading_of(1, 5.0, "e"), reading_of(1, 5.0, "f")});
  fold_into(table, std::vector{reading_of(1, 7.0, "g"), reading_of(1, 9.0, "h")});
  const sensor_aggregate* aggregate = table.find(key_of(1));
  REQUIRE(aggregate != nullptr);
  CHECK(aggregate->stats.count() == 8);
  CHECK(aggregate->stats.min() == 2.0);
  CHECK(aggregate->stats.max() == 9.0);
  CHECK(aggregate->stats.mean() == 5.0);
  CHECK(aggregate->stats.stddev() == 2.0);
  CHECK(aggregate->last_reading == 9.0);
  CHECK(aggregate->last_timestamp == "h");
  CHECK(table.find(key_of(2)) == nullptr);
  CHECK(table.find(sensor_key{json_id{10}, json_id{100}, json_id{std::string("1")}}) == nullptr);
}

TEST_CASE("for_each visits every sensor once") {
  sensor_table table;
  fold_into(table, std::vector{reading_of(1, 1), reading_of(2, 1), reading_of(3, 1)});
  std::int64_t sum = 0;
  table.for_each([&](const sensor_aggregate& a) { sum += a.key.key().sensor_id.integer(); });
  CHECK(sum == 6);
}

TEST_CASE("the aggregate message has the contract's fields, order and id types") {
  sensor_table table;
  fold_into(table, std::vector{reading_of(1000, 1.0, "2021-02-12T01:18:51.838675Z"),
                                     reading_of(1000, 2.0, "2021-02-12T01:18:52.838675Z"),
                                     reading_of(1000, 3.0, "2021-02-12T01:18:53.838675Z")});
  const auto changed = take_changed(table);
  REQUIRE(changed.size() == 1);
  CHECK(to_json_text(changed[0]) ==
        R"({"line_id":10,"device_id":100,"sensor_id":1000,"total_reads":3,"min":1,"max":3,)"
        R"("mean":2,"stddev":0.816496580927726,"last_reading":3,)"
        R"("last_timestamp":"2021-02-12T01:18:53.838675Z"})");

  sensor_aggregate with_strings;
  with_strings.key = sensor_key{json_id{std::string("L")}, json_id{7}, json_id{std::string("s\n")}};
  with_strings.stats.add(99.0263);
  with_strings.last_reading = 99.0263;
  with_strings.last_timestamp = "2021-02-12T01:18:51Z";
  CHECK(to_json_text(with_strings) ==
        R"({"line_id":"L","device_id":7,"sensor_id":"s\n","total_reads":1,"min":99.0263,)"
        R"("max":99.0263,"mean":99.0263,"stddev":0,"last_reading":99.0263,)"
        R"("last_timestamp":"2021-02-12T01:18:51Z"})");
}

TEST_CASE("aggregate messages read back with nlohmann to exactly the aggregate's values") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(99.4, 1.02);
  for (int i = 0; i < 200; ++i) {
    sensor_aggregate aggregate;
    aggregate.key = key_of(i);
    for (int j = 0; j <= i % 7; ++j)
      aggregate.stats.add(noise(rng));
    aggregate.last_reading = noise(rng);
    aggregate.last_timestamp = "2021-02-12T01:18:51Z";
    const auto json = nlohmann::json::parse(to_json_text(aggregate));
    CHECK(json.size() == 10);
    CHECK(json["line_id"] == 10);
    CHECK(json["sensor_id"] == i);
    CHECK(json["total_reads"] == aggregate.stats.count());
    CHECK(json["min"].get<double>() == aggregate.stats.min());
    CHECK(json["max"].get<double>() == aggregate.stats.max());
    CHECK(json["mean"].get<double>() == aggregate.stats.mean());
    CHECK(json["stddev"].get<double>() == aggregate.stats.stddev());
    CHECK(json["last_reading"].get<double>() == aggregate.last_reading);
    CHECK(json["last_timestamp"] == aggregate.last_timestamp.str());
  }
}

TEST_CASE("aggregate serialisation and batch folding speed is reported (not asserted)") {
  sensor_aggregate aggregate;
  aggregate.key = key_of(1000);
  for (double x : {99.1, 98.7, 101.3})
    aggregate.stats.add(x);
  aggregate.last_reading = 101.3;
  aggregate.last_timestamp = "2021-02-12T01:18:51.838675Z";
  constexpr int rounds = 100000;
  std::size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i)
    bytes += to_json_text(aggregate).size();
  const double by_hand_ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      rounds;
  const sensor_key key = aggregate.key.key();
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    const nlohmann::json json = {
        {"line_id", key.line_id},            {"device_id", key.device_id},
        {"sensor_id", key.sensor_id},        {"total_reads", aggregate.stats.count()},
        {"min", aggregate.stats.min()},      {"max", aggregate.stats.max()},
        {"mean", aggregate.stats.mean()},    {"stddev", aggregate.stats.stddev()},
        {"last_reading", aggregate.last_reading}, {"last_timestamp", aggregate.last_timestamp.str()}};
    bytes += json.dump().size();
  }
  const double nlohmann_ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      rounds;

  std::vector<reading> batch;
  for (int i = 0; i < 100; ++i)
    batch.push_back(reading_of(i % 10, 99.0 + i, "2021-02-12T01:18:51.838675Z"));
  sensor_table table;
  start = std::chrono::steady_clock::now();
  batch_folder folder;
  for (int i = 0; i < rounds / 100; ++i)
    table.apply(fold(folder, batch));
  const double fold_ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      rounds;
  std::printf("aggregate JSON: %.0f ns by hand, %.0f ns with nlohmann; batch_folder::fold + apply: "
              "%.0f ns/reading (batches of 100 over 10 sensors)\n",
              by_hand_ns, nlohmann_ns, fold_ns);
  CHECK(bytes > 0);
  CHECK(table.find(key_of(0))->stats.count() == 10 * (rounds / 100));
}

TEST_CASE("aggregates of extreme readings print finite numbers that read back exactly") {
  const std::vector<std::vector<double>> streams = {
      {1e308, -1e308}, {DBL_MAX, DBL_MAX}, {-DBL_MAX, DBL_MAX}, {1e300, 1e-300},
      {std::numeric_limits<double>::denorm_min(), -DBL_MAX}};
  for (const auto& values : streams) {
    sensor_table table;
    std::vector<reading> batch;
    for (double x : values)
      batch.push_back(reading_of(1, x, "2021-02-12T01:18:51Z"));
    fold_into(table, batch);
    const sensor_aggregate* aggregate = table.find(key_of(1));
    REQUIRE(aggregate != nullptr);
    const std::string text = to_json_text(*aggregate);
    INFO(text);
    CHECK(text.find("null") == std::string::npos);
    CHECK(text.find("inf") == std::string::npos);
    CHECK(text.find("nan") == std::string::npos);
    const auto json = nlohmann::json::parse(text);
    for (const char* field : {"min", "max", "mean", "stddev", "last_reading"})
      CHECK(json[field].is_number());
    CHECK(json["mean"].get<double>() == aggregate->stats.mean());
    CHECK(json["stddev"].get<double>() == aggregate->stats.stddev());
  }
  sensor_table table;
  fold_into(table, std::vector{reading_of(1, 1e308), reading_of(1, -1e308)});
  const auto json = nlohmann::json::parse(to_json_text(*table.find(key_of(1))));
  CHECK(json["mean"].get<double>() == 0);
  CHECK(json["stddev"].get<double>() == 1e308);
}

TEST_CASE("with a quota the table creates only the sensors it grants, and keeps counting them") {
  telluride::sensor_quota quota{2};
  sensor_table table;
  CHECK(table.admit(key_of(1), &quota) == 0u);
  CHECK(table.admit(key_of(2), &quota) == 1u);
  CHECK(table.admit(key_of(3), &quota) == std::nullopt);
  CHECK(table.admit(key_of(1), &quota) == 0u);  // known: no place needed
  CHECK(quota.taken() == 2);
  CHECK(table.size() == 2);
  CHECK(table.find(key_of(3)) == nullptr);

  const std::vector<reading> batch = {reading_of(1, 4.0, "a"), reading_of(2, 6.0, "b"), reading_of(1, 8.0, "c")};
  batch_folder folder;
  const auto partials = fold(folder, batch);
  REQUIRE(partials.size() == 2);
  CHECK(folder.partial_of(0) == 0);
  CHECK(folder.partial_of(1) == 1);
  CHECK(folder.partial_of(2) == 0);
  for (const auto& partial : partials)
    table.merge(*table.admit(*partial.key, &quota), partial);
  CHECK(table.find(key_of(1))->stats.count() == 2);
  CHECK(table.find(key_of(1))->stats.mean() == 6.0);
  CHECK(table.find(key_of(1))->last_timestamp == "c");
  CHECK(table.find(key_of(2))->stats.count() == 1);
  const auto changed = take_changed(table);
  REQUIRE(changed.size() == 2);
  CHECK(changed[0].key == key_of(1));
  CHECK(changed[1].key == key_of(2));
  CHECK(quota.taken() == 2);
}

TEST_CASE("sensors whose hashes collide, whole or in the slot only, each keep their own aggregate") {
  // admit takes the caller's hash: these stand for keys that collide. The index starts with 16
  // slots, so four sensors fit without growing (growing works the real hashes out again).
  constexpr std::uint64_t h = 0x0123'4567'0000'0005ULL;
  constexpr std::uint64_t same_slot_other_tag = h + (std::uint64_t{1} << 32);
  sensor_table table;
  CHECK(table.admit(key_of(1), h) == 0u);
  CHECK(table.admit(key_of(2), h) == 1u);                    // the same hash: the keys decide
  CHECK(table.admit(key_of(3), same_slot_other_tag) == 2u);  // the same slot, another tag
  CHECK(table.admit(key_of(4), h + 1) == 3u);                // the next slot, taken by now
  for (int round = 0; round < 2; ++round) {
    table.prefetch_aggregate(h);
    CHECK(table.admit(key_of(1), h) == 0u);
    CHECK(table.admit(key_of(2), h) == 1u);
    CHECK(table.admit(key_of(3), same_slot_other_tag) == 2u);
    CHECK(table.admit(key_of(4), h + 1) == 3u);
  }
  CHECK(table.size() == 4);
  for (std::uint32_t position = 0; position < 4; ++position)
    CHECK(table.at(position).key == key_of(position + 1));
}

TEST_CASE("100,000 sensors, some with string ids, are all found again with their counts") {
  sensor_table table;
  batch_folder folder;
  auto key = [](int i) {
    return i % 10 == 0 ? sensor_key{json_id{std::string("line")}, json_id{i}, json_id{std::string("s").append(std::to_string(i))}}
                       : key_of(i);
  };
  for (int round = 0; round < 2; ++round)
    for (int first = 0; first < 100000; first += 100) {
      std::vector<reading> batch;
      for (int i = first; i < first + 100; ++i)
        batch.push_back(reading{key(i), static_cast<double>(i + round), std::string("t").append(std::to_string(round)), std::nullopt});
      table.apply(fold(folder, batch));
    }
  CHECK(table.size() == 100000);
  for (int i = 0; i < 100000; i += 7) {
    const sensor_aggregate* aggregate = table.find(key(i));
    REQUIRE(aggregate != nullptr);
    CHECK(aggregate->key == key(i));
    CHECK(aggregate->stats.count() == 2);
    CHECK(aggregate->stats.min() == i);
    CHECK(aggregate->last_reading == i + 1);
  }
  CHECK(table.find(sensor_key{json_id{std::string("line")}, json_id{3}, json_id{std::string("s3")}}) == nullptr);
  CHECK(take_changed(table).size() == 100000);
}

TEST_CASE("an aggregate is 152 bytes: key 32, stats 72, last reading 8, timestamp 40") {
  CHECK(sizeof(telluride::compact_sensor_key) == 32);
  CHECK(sizeof(telluride::running_stats) == 72);
  CHECK(sizeof(telluride::timestamp_text) == 40);
  CHECK(sizeof(sensor_aggregate) == 152);
}

TEST_CASE("assign sets a sensor to a restored aggregate, creating or replacing it, and marks it changed") {
  sensor_table table;
  fold_into(table, {reading_of(1, 5.0, "t1")});
  CHECK(take_changed(table).size() == 1);

  sensor_aggregate restored;
  restored.key = key_of(2);
  restored.stats.add(3.0);
  restored.stats.add(4.0);
  restored.last_reading = 4.0;
  restored.last_timestamp = "t9";
  const std::uint32_t created = table.assign(restored);
  CHECK(created == 1);
  CHECK(table.size() == 2);
  CHECK(table.at(created).stats.count() == 2);
  CHECK(table.at(created).last_timestamp == "t9");

  restored.key = key_of(1);
  restored.last_reading = 7.5;
  CHECK(table.assign(restored) == 0);  // sensor 1 keeps its place
  CHECK(table.size() == 2);
  const sensor_aggregate* one = table.find(key_of(1));
  REQUIRE(one != nullptr);
  CHECK(one->stats.count() == 2);  // replaced, not merged
  CHECK(one->stats.mean() == 3.5);
  CHECK(one->last_reading == 7.5);
  CHECK(&table.at(0) == one);

  const auto changed = take_changed(table);
  REQUIRE(changed.size() == 2);
  CHECK(changed[0].key == key_of(2));
  CHECK(changed[1].key == key_of(1));
  // A later reading merges into the assigned aggregate.
  fold_into(table, {reading_of(1, 0.5, "t10")});
  CHECK(table.find(key_of(1))->stats.count() == 3);
  CHECK(table.find(key_of(1))->stats.mean() == 2.5);
  CHECK(table.find(key_of(1))->last_timestamp == "t10");
}
