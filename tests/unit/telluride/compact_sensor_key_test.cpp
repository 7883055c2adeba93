#include "telluride/domain/compact_sensor_key.hpp"

#include <doctest/doctest.h>

#include <string>
#include <unordered_set>
#include <vector>

using telluride::compact_sensor_key;
using telluride::json_id;
using telluride::sensor_key;

namespace {

sensor_key key_of(std::int64_t line, std::int64_t device, std::int64_t sensor) {
  return sensor_key{json_id{line}, json_id{device}, json_id{sensor}};
}

const sensor_key with_string{json_id{std::string("line-a")}, json_id{100}, json_id{1000}};

} // namespace

TEST_CASE("a compact key is 32 bytes") {
  CHECK(sizeof(compact_sensor_key) == 32);
  CHECK(sizeof(sensor_key) == 120);
}

TEST_CASE("a compact key gives back the key it was made from, JSON types included") {
  for (const sensor_key& key : {key_of(10, 100, 1000), key_of(-1, 0, INT64_MAX), with_string,
                                sensor_key{json_id{std::string("1")}, json_id{std::string("")},
                                           json_id{std::string("s\n")}}}) {
    const compact_sensor_key compact{key};
    CHECK(compact.key() == key);
    CHECK(compact == key);
    CHECK(key == compact);
    CHECK(compact.hash() == hash_value(key));
    std::string from_compact, from_key;
    append_json_fields(from_compact, compact);
    append_json_fields(from_key, key);
    CHECK(from_compact == from_key);
    CHECK(to_string(compact) == to_string(key));
  }
}

TEST_CASE("compact keys compare like their keys: 10 is not \"10\"") {
  const compact_sensor_key number{key_of(10, 100, 1000)};
  const sensor_key text{json_id{std::string("10")}, json_id{100}, json_id{1000}};
  CHECK_FALSE(number == text);
  CHECK_FALSE(compact_sensor_key{text} == number);
  CHECK_FALSE(number == key_of(10, 100, 1001));
  CHECK(compact_sensor_key{text} == compact_sensor_key{text});
  CHECK_FALSE(compact_sensor_key{with_string} == compact_sensor_key{text});
}

TEST_CASE("copies of a compact key with string ids own their copy") {
  compact_sensor_key copy;
  CHECK(copy == key_of(0, 0, 0));
  {
    const compact_sensor_key original{with_string};
    copy = original;
  }
  CHECK(copy == with_string);
  compact_sensor_key moved{std::move(copy)};
  CHECK(moved == with_string);
}

TEST_CASE("a set of compact keys is looked up by full keys") {
  std::unordered_set<compact_sensor_key, telluride::compact_sensor_key_hash, telluride::compact_sensor_key_equal> set;
  for (std::int64_t i = 0; i < 1000; ++i)
    set.emplace(key_of(1, 2, i));
  set.emplace(with_string);
  CHECK(set.size() == 1001);
  CHECK(set.find(key_of(1, 2, 999)) != set.end());
  CHECK(set.find(key_of(1, 2, 1000)) == set.end());
  CHECK(set.find(with_string) != set.end());
  CHECK(set.count(sensor_key{json_id{1}, json_id{2}, json_id{std::string("5")}}) == 0);
}
