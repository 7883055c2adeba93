#include "telluride/domain/sensor_key.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <vector>

using telluride::json_id;
using telluride::sensor_key;

namespace {

sensor_key key_of(std::int64_t line, std::int64_t device, std::int64_t sensor) {
  return sensor_key{json_id{line}, json_id{device}, json_id{sensor}};
}

} // namespace

TEST_CASE("keys are equal only when all three ids and their JSON types are equal") {
  CHECK(key_of(10, 100, 1000) == key_of(10, 100, 1000));
  CHECK_FALSE(key_of(10, 100, 1000) == key_of(10, 100, 1001));
  CHECK_FALSE(key_of(10, 100, 1000) == key_of(100, 10, 1000));
  const sensor_key with_string{json_id{10}, json_id{std::string("100")}, json_id{1000}};
  CHECK_FALSE(with_string == key_of(10, 100, 1000));
  CHECK(with_string == sensor_key{json_id{10}, json_id{std::string("100")}, json_id{1000}});
}

TEST_CASE("the hash of a key is stable across runs and machines") {
  // Partitioning depends on these values: changing the hash moves sensors between stages.
  CHECK(hash_value(key_of(10, 100, 1000)) == 15518368261360133080ULL);
  CHECK(hash_value(sensor_key{json_id{std::string("a")}, json_id{std::string("b")},
                              json_id{std::string("c")}}) == 2918967214270934164ULL);
}

TEST_CASE("integer and string ids with the same text hash differently") {
  CHECK(hash_value(json_id{10}) != hash_value(json_id{std::string("10")}));
  CHECK(hash_value(key_of(1, 2, 3)) != hash_value(key_of(3, 2, 1)));
  CHECK(hash_value(key_of(1, 2, 3)) != hash_value(key_of(2, 1, 3)));
}

TEST_CASE("100,000 sequential keys have distinct hashes") {
  std::vector<std::uint64_t> hashes;
  for (int line = 0; line < 10; ++line)
    for (int device = 0; device < 100; ++device)
      for (int sensor = 0; sensor < 100; ++sensor)
        hashes.push_back(hash_value(key_of(line, device, sensor)));
  std::sort(hashes.begin(), hashes.end());
  CHECK(std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end());
}

/// Pearson's chi-square of bucket counts against a uniform spread.
double chi_square(const std::vector<int>& counts, double total) {
  const double expected = total / static_cast<double>(counts.size());
  double sum = 0;
  for (int count : counts)
    sum += (count - expected) * (count - expected) / expected;
  return sum;
}

TEST_CASE("sequential keys spread uniformly over partitions, by low and by high bits") {
  // A uniform spread gives chi-square ~ df = buckets - 1 with stddev sqrt(2 df); allow 5 of
  // those. A poor hash of sequential ids misses by orders of magnitude.
  constexpr int keys = 64000;
  for (std::uint64_t partitions : {2, 7, 16, 64, 1000}) {
    std::vector<int> by_modulo(partitions);
    std::vector<int> by_top_bits(partitions);
    for (int i = 0; i < keys; ++i) {
      const std::uint64_t h = hash_value(key_of(i / 1000, i / 10 % 100, i % 10));
      ++by_modulo[h % partitions];
      ++by_top_bits[static_cast<std::size_t>(
          (static_cast<telluride::detail::uint128>(h) * partitions) >> 64)];
    }
    const double df = static_cast<double>(partitions - 1);
    CAPTURE(partitions);
    CHECK(chi_square(by_modulo, keys) < df + 5 * std::sqrt(2 * df));
    CHECK(chi_square(by_top_bits, keys) < df + 5 * std::sqrt(2 * df));
  }
}

TEST_CASE("flipping one input bit flips about half of the hash bits") {
  std::mt19937_64 rng(3);
  double total_flipped = 0;
  int trials = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto sensor = static_cast<std::int64_t>(rng() >> 1);
    const int bit = static_cast<int>(rng() % 62);
    const std::uint64_t a = hash_value(key_of(1, 2, sensor));
    const std::uint64_t b = hash_value(key_of(1, 2, sensor ^ (std::int64_t{1} << bit)));
    total_flipped += std::popcount(a ^ b);
    ++trials;
  }
  const double mean_flipped = total_flipped / trials;
  CHECK(mean_flipped > 31);
  CHECK(mean_flipped < 33);
}

TEST_CASE("string ids hash every byte, at every length") {
  std::vector<std::uint64_t> hashes;
  std::string text;
  for (int length = 0; length < 40; ++length) {
    for (char c : {'a', 'b'}) {
      std::string variant = text + c;
      hashes.push_back(telluride::hash_bytes(variant));
    }
    text += 'x';
    hashes.push_back(telluride::hash_bytes(text));
  }
  std::sort(hashes.begin(), hashes.end());
  CHECK(std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end());
}

TEST_CASE("key JSON echoes each id with its JSON type") {
  const sensor_key key{json_id{10}, json_id{std::string("dev\"1")}, json_id{-3}};
  std::string out;
  append_json_fields(out, key);
  CHECK(out == R"("line_id":10,"device_id":"dev\"1","sensor_id":-3)");
  CHECK(nlohmann::json(key) ==
        nlohmann::json::parse(R"({"line_id":10,"device_id":"dev\"1","sensor_id":-3})"));
  CHECK(to_string(key) == R"(10/"dev\"1"/-3)");
}

TEST_CASE("a URL segment becomes an integer id only when it is a canonical integer") {
  const std::vector<std::pair<std::string, json_id>> cases = {
      {"10", json_id{10}},
      {"-3", json_id{-3}},
      {"0", json_id{0}},
      {"9223372036854775807", json_id{INT64_MAX}},
      {"9223372036854775808", json_id{std::string("9223372036854775808")}},
      {"010", json_id{std::string("010")}},
      {"+3", json_id{std::string("+3")}},
      {"-0", json_id{std::string("-0")}},
      {"", json_id{std::string("")}},
      {"line-a", json_id{std::string("line-a")}},
      {"12x", json_id{std::string("12x")}},
  };
  for (const auto& [text, id] : cases) {
    CAPTURE(text);
    CHECK(telluride::json_id_from_text(text) == id);
  }
}

TEST_CASE("the sensor_key header value is line/device/sensor: integers in decimal, strings as they are") {
  CHECK(telluride::sensor_key_header == "sensor_key");
  CHECK(telluride::sensor_key_text(key_of(10, 100, 1000)) == "10/100/1000");
  CHECK(telluride::sensor_key_text(key_of(-3, 0, 9223372036854775807)) == "-3/0/9223372036854775807");
  CHECK(telluride::sensor_key_text(sensor_key{json_id{std::string("line-a")}, json_id{100},
                                              json_id{std::string("s \"1\"/x")}}) == "line-a/100/s \"1\"/x");
  CHECK(telluride::sensor_key_text(sensor_key{json_id{std::string("")}, json_id{std::string("")},
                                              json_id{std::string("")}}) == "//");
}
