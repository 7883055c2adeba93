// sensor_fleet.hpp — the simulated sensors of `telluride sensors`, and the readings they send.
//
// Sensor i (0-based) sits on line i/100+1, device i/10+1 and is sensor i+1. Every third sensor
// (i % 3 == 2) uses string ids ("line-1", "device-3", "sensor-3"), the others integers, so both
// id forms of docs/wire-format.md (Reading) flow all the time. Each sensor has a `type` and its
// own normal distribution (mean, stddev) drawn from the seed; a few "hot" sensors have their
// mean just under their type's alert threshold, so alerts happen now and then. Values come from
// each sensor's own generator: the same seed gives the same sensors and the same value sequence
// per sensor, on every machine (own generator and normal transform, not the standard
// library's). Pure: no clock, no I/O.
#pragma once

#include "telluride/domain/expected.hpp"
#include "telluride/domain/json_id.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace telluride::tools {

/// xoshiro256** seeded through splitmix64: small, fast, identical everywhere.
class random_stream {
public:
  explicit random_stream(std::uint64_t seed);
  std::uint64_t next() noexcept;
  /// Uniform in [0, 1).
  double uniform() noexcept;
  /// Standard normal (Box–Muller; the second value of each pair is kept for the next call).
  double normal() noexcept;

private:
  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

/// The value range a sensor type draws its sensors' distributions from.
struct sensor_type_profile {
  std::string_view name;
  std::string_view unit;
  double mean_min, mean_max;
  double stddev_min, stddev_max;
};

/// temperature (°C), humidity (%), pressure (bar), vibration (mm/s).
std::span<const sensor_type_profile> sensor_type_profiles() noexcept;

struct simulated_sensor {
  json_id line_id;
  json_id device_id;
  json_id sensor_id;
  std::string type;
  double mean = 0;
  double stddev = 0;
  bool is_hot = false;
};

struct fleet_options {
  std::size_t count = 1;
  std::uint64_t seed = 0;
  /// Type names from sensor_type_profiles(); empty: all of them.
  std::vector<std::string> types;
  /// Share of sensors (0..1) whose mean sits half a stddev under their alert threshold.
  double hot_share = 0.01;
  /// type → alert threshold, "default" for the others (the config's alert_thresholds).
  std::map<std::string, double, std::less<>> thresholds;
};

class sensor_fleet {
public:
  /// The error names a type that does not exist.
  static expected<sensor_fleet> create(const fleet_options& options);

  std::size_t size() const noexcept { return sensors_.size(); }
  const simulated_sensor& sensor(std::size_t index) const { return sensors_[index]; }

  /// The next value of sensor `index`, rounded to 4 decimals.
  double next_value(std::size_t index);

  /// The value of sensor `index`'s `sensor_key` header (sensor_key.hpp, sensor_key_text).
  const std::string& sensor_key_text(std::size_t index) const { return key_texts_[index]; }

  /// Appends the reading JSON of docs/wire-format.md (Reading):
  /// `{"line_id":..,"device_id":..,"sensor_id":..,"reading":..,"timestamp":"..","type":".."}`.
  void append_reading(std::string& out, std::size_t index, double value, std::string_view timestamp) const;

private:
  std::vector<simulated_sensor> sensors_;
  std::vector<random_stream> streams_;
  std::vector<std::string> prefixes_;  // `{"line_id":..,"device_id":..,"sensor_id":..,"reading":`
  std::vector<std::string> suffixes_;  // `,"type":"temperature"}`
  std::vector<std::string> key_texts_;  // `1/1/1`, `line-1/device-1/sensor-3`
};

/// `YYYY-MM-DDThh:mm:ss.uuuuuuZ` for `us` microseconds after the epoch (UTC, years 1970..9999).
std::string iso8601_from_epoch_us(std::int64_t us);

} // namespace telluride::tools
