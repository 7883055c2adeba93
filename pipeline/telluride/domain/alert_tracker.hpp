// alert_tracker.hpp — raises an alert when a sensor stays above its threshold.
//
// Each sensor has a counter of consecutive warnings. A reading above the threshold of the
// sensor's `type` (strictly greater) adds one; a reading at or below it resets the counter
// to 0. When the counter reaches `alert_after`, one alert is produced:
// `{"event":"threshold_exceeded","line_id":..,"device_id":..,"sensor_id":..,"reading":..,
//   "threshold":..,"consecutive":3,"timestamp":".."}`
//
// Repeats: exactly one alert per excursion. The alert fires when the counter *equals*
// `alert_after`; while the sensor stays above, the counter keeps rising but nothing more is
// sent, so a sensor stuck high does not flood the alerts route. Only after a reading at or
// below the threshold (a reset) can the sensor alert again.
//
// It also counts the alerts raised for each sensor (GET /api/sensors shows them; checkpoints
// keep them).
//
// Not thread-safe; readings of one sensor must come in broker order (they do: a sensor's
// readings all go through one batch processor).
#pragma once

#include "telluride/domain/compact_sensor_key.hpp"
#include "telluride/domain/reading.hpp"
#include "telluride/domain/sensor_key.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace telluride {

struct alert_rules {
  /// Sensor `type` → threshold. `"default"` applies to readings without a type or with a type
  /// not listed; without a `"default"` such readings never warn.
  std::map<std::string, double, std::less<>> thresholds{{"default", 100.0}};
  std::uint64_t alert_after = 3;  ///< consecutive warnings that raise the alert; >= 1
};

struct alert {
  sensor_key key;
  double reading = 0;
  double threshold = 0;
  std::uint64_t consecutive = 0;  ///< equals `alert_after`
  std::string timestamp;          ///< of the reading that raised the alert
};

/// Appends the alert message: fields in the order above, ids with their JSON types.
void append_json(std::string& out, const alert& raised);

/// The alert message as a string.
std::string to_json_text(const alert& raised);

class alert_tracker {
public:
  explicit alert_tracker(alert_rules rules);

  /// Counts one reading; returns the alert when this reading brings its sensor's counter to
  /// `alert_after`.
  std::optional<alert> observe(const reading& r);

  /// The threshold for a reading of this type, or none (no such type and no "default").
  std::optional<double> threshold_for(const std::optional<std::string>& type) const;

  /// The sensor's current count of consecutive warnings (0 for a sensor never above).
  std::uint64_t consecutive(const sensor_key& key) const;
  std::uint64_t consecutive(const compact_sensor_key& key) const;

  /// Sets the sensor's count of consecutive warnings, as a checkpoint recorded it (0 forgets
  /// the sensor): its next reading goes on from `count` as if the warnings had been observed.
  void set_consecutive(const compact_sensor_key& key, std::uint64_t count);

  /// Alerts raised for the sensor: by observe, on top of what set_raised_for set.
  std::uint64_t raised_for(const compact_sensor_key& key) const;

  /// Sets the sensor's count of alerts raised, as a checkpoint recorded it (0 forgets it).
  void set_raised_for(const compact_sensor_key& key, std::uint64_t count);

  /// Sensors whose counter is above 0; only these take memory (a 64-byte node and a bucket
  /// each, with no other allocation unless an id is a string), and so do the sensors that ever
  /// alerted, in the count of alerts raised.
  std::size_t sensors_above() const noexcept { return counters_.size(); }
  /// Sensors with at least one alert raised.
  std::size_t sensors_alerted() const noexcept { return raised_.size(); }

  const alert_rules& rules() const noexcept { return rules_; }

private:
  /// Hashes std::string and std::string_view alike, so that a type is found without a copy.
  struct type_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };

  alert_rules rules_;
  // rules_.thresholds, for the lookup every reading makes: one hash and one comparison instead
  // of a walk down the map's tree that compares the type at each level.
  std::unordered_map<std::string, double, type_hash, std::equal_to<>> by_type_;
  std::optional<double> default_threshold_;
  using counts = std::unordered_map<compact_sensor_key, std::uint64_t, compact_sensor_key_hash, compact_sensor_key_equal>;
  counts counters_;  // consecutive warnings, of the sensors above their threshold
  counts raised_;    // alerts raised, of the sensors that alerted (rare: touched once per alert)
};

} // namespace telluride
