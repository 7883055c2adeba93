// compact_sensor_key.hpp — a sensor_key as the tables keep it: 32 bytes, no allocation for
// integer ids.
//
// A sensor_key is 120 bytes (three ids, each an integer-or-string variant), and the tables
// that track sensors hold one per sensor. They keep this form instead: three integer ids
// inline (the common case), or, when any id is a string, the whole key on the heap behind one
// pointer. It compares equal to, and hashes like, the sensor_key it was made from.
#pragma once

#include "telluride/domain/sensor_key.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace telluride {

class compact_sensor_key {
public:
  /// The key 0/0/0 (integer ids).
  compact_sensor_key() = default;
  compact_sensor_key(const sensor_key& key);  // NOLINT: implicit, the same value
  compact_sensor_key(const compact_sensor_key& other);
  compact_sensor_key& operator=(const compact_sensor_key& other);
  compact_sensor_key(compact_sensor_key&&) noexcept = default;
  compact_sensor_key& operator=(compact_sensor_key&&) noexcept = default;
  ~compact_sensor_key() = default;

  /// The full key (allocates only for string ids).
  sensor_key key() const;
  /// The full key when an id is a string (no copy made), else null: then the ids are
  /// integer_ids().
  const sensor_key* with_strings() const noexcept { return with_strings_.get(); }
  /// Line, device and sensor id when all are integers.
  const std::int64_t (&integer_ids() const noexcept)[3] { return ids_; }
  /// Equals hash_value(key()), without making the key.
  std::uint64_t hash() const noexcept;

  bool operator==(const sensor_key& key) const noexcept;
  bool operator==(const compact_sensor_key& other) const noexcept;

  /// Appends `"line_id":..,"device_id":..,"sensor_id":..` as for the full key.
  friend void append_json_fields(std::string& out, const compact_sensor_key& key);

private:
  std::int64_t ids_[3] = {0, 0, 0};                 // line, device, sensor: when all integers
  std::unique_ptr<const sensor_key> with_strings_;  // else the whole key
};

/// For logs: as `to_string(sensor_key)`.
std::string to_string(const compact_sensor_key& key);

/// Hash and equality functors for unordered containers of compact keys, looked up by either
/// form. The hash is deliberately not noexcept, so libstdc++ keeps each node's hash (see
/// sensor_key_hash); a node is 56 bytes either way.
struct compact_sensor_key_hash {
  using is_transparent = void;
  std::size_t operator()(const compact_sensor_key& key) const { return key.hash(); }
  std::size_t operator()(const sensor_key& key) const { return hash_value(key); }
};

struct compact_sensor_key_equal {
  using is_transparent = void;
  bool operator()(const compact_sensor_key& a, const compact_sensor_key& b) const noexcept { return a == b; }
  bool operator()(const compact_sensor_key& a, const sensor_key& b) const noexcept { return a == b; }
  bool operator()(const sensor_key& a, const compact_sensor_key& b) const noexcept { return b == a; }
};

} // namespace telluride
