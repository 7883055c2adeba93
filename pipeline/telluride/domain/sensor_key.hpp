// sensor_key.hpp — the identity of a sensor: the triple (line_id, device_id, sensor_id).
//
// Readings are grouped, partitioned and sharded by this key. Its hash is stable across runs
// and machines (see hash.hpp), so `hash_value(key) % partitions` always routes a sensor to the
// same stage instance, which is what keeps each sensor's readings in order.
#pragma once

#include "telluride/domain/hash.hpp"
#include "telluride/domain/json_id.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace telluride {

struct sensor_key {
  json_id line_id;
  json_id device_id;
  json_id sensor_id;

  /// Equal when all three ids are equal, JSON type included (`10` != `"10"`).
  bool operator==(const sensor_key&) const = default;
};

/// Stable, well-mixed 64-bit hash of the whole triple; cheap (~10 ns for integer ids).
inline std::uint64_t hash_value(const sensor_key& key) noexcept {
  return hash_combine(hash_combine(hash_value(key.line_id), hash_value(key.device_id)),
                      hash_value(key.sensor_id));
}

/// Hash functor for unordered containers. Deliberately not noexcept: libstdc++ then keeps
/// each node's hash, so a lookup compares stored hashes instead of rehashing (three ids, and
/// a cache miss) every node it passes in the bucket chain.
struct sensor_key_hash {
  std::size_t operator()(const sensor_key& key) const {
    return static_cast<std::size_t>(hash_value(key));
  }
};

/// Appends `"line_id":..,"device_id":..,"sensor_id":..` (no braces) with the ids' JSON types.
inline void append_json_fields(std::string& out, const sensor_key& key) {
  out += "\"line_id\":";
  append_json(out, key.line_id);
  out += ",\"device_id\":";
  append_json(out, key.device_id);
  out += ",\"sensor_id\":";
  append_json(out, key.sensor_id);
}

/// nlohmann::json conversion: `{"line_id":..,"device_id":..,"sensor_id":..}`.
inline void to_json(nlohmann::json& out, const sensor_key& key) {
  out = nlohmann::json{
      {"line_id", key.line_id}, {"device_id", key.device_id}, {"sensor_id", key.sensor_id}};
}

/// The AMQP header of a reading that names its sensor: the sharded readings route's
/// consistent-hash exchange hashes its value (docs/wire-format.md, Shards).
inline constexpr std::string_view sensor_key_header = "sensor_key";

/// The value of the `sensor_key` header: `line_id/device_id/sensor_id`, integers in decimal
/// and strings as they are (`10/100/1000`, `line-a/100/1000`). Only its hash matters: two
/// sensors may share a value (`"10"` and `10`), and then share a shard.
inline std::string sensor_key_text(const sensor_key& key) {
  auto text = [](const json_id& id) { return id.is_integer() ? std::to_string(id.integer()) : id.text(); };
  return text(key.line_id) + '/' + text(key.device_id) + '/' + text(key.sensor_id);
}

/// For logs: `10/100/1000`, string ids quoted: `"line-a"/100/1000`.
inline std::string to_string(const sensor_key& key) {
  std::string out;
  append_json(out, key.line_id);
  out += '/';
  append_json(out, key.device_id);
  out += '/';
  append_json(out, key.sensor_id);
  return out;
}

} // namespace telluride
