// Claims about batch_folder: one partial per sensor of a batch, in order of first reading.
#include "telluride/domain/batch_fold.hpp"
#include "telluride/domain/sensor_table.hpp"

#include "readings_of.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

// A namespace of its own: other files of a unity batch have helpers of the same names.
namespace batch_fold_test {

using telluride::batch_folder;
using telluride::json_id;
using telluride::reading;
using telluride::sensor_key;
using telluride::sensor_table;
using telluride::test::fold;
using telluride::test::key_of;
using telluride::test::reading_of;

TEST_CASE("a batch folds into one partial per sensor, in order of first appearance") {
  const std::vector<reading> batch = {
      reading_of(2, 5.0, "t1"), reading_of(1, 1.0, "t2"), reading_of(2, 7.0, "t3"),
      reading_of(1, 3.0, "t4"), reading_of(2, 6.0, "t5"),
  };
  batch_folder folder;
  const auto partials = fold(folder, batch);
  REQUIRE(partials.size() == 2);
  CHECK(*partials[0].key == key_of(2));
  CHECK(partials[0].stats.count() == 3);
  CHECK(partials[0].stats.min() == 5.0);
  CHECK(partials[0].stats.max() == 7.0);
  CHECK(partials[0].stats.mean() == 6.0);
  CHECK(partials[0].last_reading() == 6.0);
  CHECK(partials[0].last_timestamp() == "t5");
  CHECK(*partials[1].key == key_of(1));
  CHECK(partials[1].stats.count() == 2);
  CHECK(partials[1].stats.mean() == 2.0);
  CHECK(partials[1].last_reading() == 3.0);
  CHECK(partials[1].last_timestamp() == "t4");
}

TEST_CASE("a fold given the keys' hashes groups as one that works them out, and its partials carry them") {
  std::vector<reading> batch;
  for (int i = 0; i < 200; ++i)
    batch.push_back(reading_of(i % 37, i, "t" + std::to_string(i)));
  std::vector<const reading*> pointers;
  std::vector<std::uint64_t> hashes;
  for (const reading& r : batch) {
    pointers.push_back(&r);
    hashes.push_back(telluride::hash_value(r.key));
  }
  batch_folder worked_out, given;
  const auto a = worked_out.fold(pointers);
  const auto b = given.fold(pointers, hashes);
  REQUIRE(a.size() == 37);
  REQUIRE(b.size() == a.size());
  for (std::size_t p = 0; p < a.size(); ++p) {
    CHECK(*b[p].key == *a[p].key);
    CHECK(b[p].hash == telluride::hash_value(*a[p].key));
    CHECK(a[p].hash == b[p].hash);
    CHECK(b[p].stats.count() == a[p].stats.count());
    CHECK(b[p].last == a[p].last);
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    CHECK(given.partial_of(i) == worked_out.partial_of(i));

  // The table finds each sensor where admit without a hash puts it; the hints change nothing.
  sensor_table table;
  for (const auto& partial : b) {
    table.prefetch_slot(partial.hash);
    table.prefetch_aggregate(partial.hash);
  }
  table.apply(b);
  for (const auto& partial : a) {
    table.prefetch_slot(partial.hash);
    table.prefetch_aggregate(partial.hash);
    CHECK(table.admit(*partial.key, partial.hash) == table.admit(*partial.key));
  }
  CHECK(table.size() == 37);
}

TEST_CASE("readings of different sensors given the same hash still fold apart: the keys decide") {
  const std::vector<reading> batch = {reading_of(1, 1.0), reading_of(2, 2.0), reading_of(1, 3.0), reading_of(3, 4.0),
                                      reading_of(2, 5.0)};
  std::vector<const reading*> pointers;
  for (const reading& r : batch)
    pointers.push_back(&r);
  const std::vector<std::uint64_t> same(batch.size(), 0x1234'5678'9abc'def0ULL);
  batch_folder folder;
  const auto partials = folder.fold(pointers, same);
  REQUIRE(partials.size() == 3);
  CHECK(*partials[0].key == key_of(1));
  CHECK(partials[0].stats.count() == 2);
  CHECK(partials[0].last == &batch[2]);
  CHECK(*partials[1].key == key_of(2));
  CHECK(partials[1].stats.count() == 2);
  CHECK(*partials[2].key == key_of(3));
  CHECK(partials[2].stats.count() == 1);
  const std::vector<std::size_t> expected = {0, 1, 0, 2, 1};
  for (std::size_t i = 0; i < batch.size(); ++i)
    CHECK(folder.partial_of(i) == expected[i]);
}

TEST_CASE("an empty batch folds into nothing") {
  batch_folder folder;
  CHECK(fold(folder, std::vector<reading>{}).empty());
}

TEST_CASE("the last reading of a sensor is the last in batch order, not the largest") {
  const std::vector<reading> batch = {reading_of(1, 9.0, "a"), reading_of(1, 2.0, "b")};
  batch_folder folder;
  const auto partials = fold(folder, batch);
  REQUIRE(partials.size() == 1);
  CHECK(partials[0].last_reading() == 2.0);
  CHECK(partials[0].last_timestamp() == "b");
}

TEST_CASE("a folder reused for the next batch keeps nothing of the previous one") {
  batch_folder folder;
  const std::vector<reading> first = {reading_of(1, 1.0), reading_of(2, 2.0), reading_of(1, 3.0)};
  REQUIRE(fold(folder, first).size() == 2);
  const std::vector<reading> second = {reading_of(3, 4.0)};
  const auto partials = fold(folder, second);
  REQUIRE(partials.size() == 1);
  CHECK(*partials[0].key == key_of(3));
  CHECK(partials[0].stats.count() == 1);
  CHECK(partials[0].stats.mean() == 4.0);
}

TEST_CASE("1,000 sensors in one batch, twice each, fold into 1,000 partials of 2") {
  std::vector<reading> batch;
  for (int round = 0; round < 2; ++round)
    for (int sensor = 0; sensor < 1000; ++sensor)
      batch.push_back(reading_of(sensor, sensor + round * 0.5));
  // The same number as a string is another sensor.
  batch.push_back(reading{sensor_key{json_id{10}, json_id{100}, json_id{std::string("7")}}, 1.0,
                          "t", std::nullopt});
  batch_folder folder;
  const auto partials = fold(folder, batch);
  REQUIRE(partials.size() == 1001);
  for (int sensor = 0; sensor < 1000; ++sensor) {
    CHECK(*partials[sensor].key == key_of(sensor));
    CHECK(partials[sensor].stats.count() == 2);
    CHECK(partials[sensor].stats.min() == sensor);
    CHECK(partials[sensor].last_reading() == sensor + 0.5);
  }
  CHECK(partials[1000].key->sensor_id.text() == "7");
  CHECK(partials[1000].stats.count() == 1);
}

} // namespace batch_fold_test
