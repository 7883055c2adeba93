// readings.hpp — simulated readings with their expected aggregates, computed independently of
// the daemon (two-pass, long double) for exactness checks.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace telluride::test {

struct sensor_id {
  nlohmann::json line, device, sensor;
  /// The identity with JSON types: 10 and "10" are different sensors.
  std::string key() const { return line.dump() + "/" + device.dump() + "/" + sensor.dump(); }
};

struct reading_message {
  std::string body;
  std::string message_id;
  std::size_t sensor = 0;
  double value = 0;
  std::string timestamp;
};

struct expected_aggregate {
  std::uint64_t count = 0;
  double min = 0, max = 0, mean = 0, stddev = 0, last = 0;
  std::string last_timestamp;
};

/// `sensors` sensors, every third with string ids; `count` readings round-robin over them
/// with a per-sensor normal distribution.
class reading_set {
public:
  reading_set(std::size_t sensors, std::size_t count, std::uint32_t seed, const std::string& id_prefix) {
    std::mt19937_64 rng{seed};
    for (std::size_t s = 0; s < sensors; ++s) {
      sensor_id id;
      if (s % 3 == 0)
        id = {"L" + std::to_string(s / 50), "D" + std::to_string(s / 10), "S" + std::to_string(s)};
      else
        id = {static_cast<std::int64_t>(s / 50), static_cast<std::int64_t>(100 + s / 10), static_cast<std::int64_t>(1000 + s)};
      ids_.push_back(id);
      means_.push_back(20.0 + static_cast<double>(s % 40));
    }
    for (std::size_t i = 0; i < count; ++i) {
      auto s = (i * 7919) % sensors;  // interleaved, not sorted by sensor
      std::normal_distribution<double> d{means_[s], 1.5};
      reading_message m;
      m.sensor = s;
      m.value = std::round(d(rng) * 1e4) / 1e4;
      m.timestamp = "2026-11-22T10:" + two(i / 60000 % 60) + ":" + two(i / 1000 % 60) + "." + std::to_string(100000 + i % 1000 * 100).substr(1) + "Z";
      m.message_id = id_prefix + "-" + std::to_string(i);
      nlohmann::json body{{"line_id", ids_[s].line}, {"device_id", ids_[s].device}, {"sensor_id", ids_[s].sensor},
                          {"reading", m.value}, {"timestamp", m.timestamp}, {"type", "temperature"}};
      m.body = body.dump();
      messages_.push_back(std::move(m));
    }
  }

  const std::vector<reading_message>& messages() const { return messages_; }
  const std::vector<sensor_id>& ids() const { return ids_; }

  /// What the aggregates must be after messages [0, upto).
  std::map<std::string, expected_aggregate> expected(std::size_t upto) const {
    std::vector<const reading_message*> handled;
    for (std::size_t i = 0; i < upto; ++i)
      handled.push_back(&messages_[i]);
    return expected_of(handled);
  }

  /// What the aggregates must be after `handled` (messages of this set, in the order handled).
  std::map<std::string, expected_aggregate> expected_of(const std::vector<const reading_message*>& handled) const {
    std::map<std::size_t, std::vector<const reading_message*>> by_sensor;
    for (const auto* m : handled)
      by_sensor[m->sensor].push_back(m);
    std::map<std::string, expected_aggregate> out;
    for (const auto& [s, list] : by_sensor)
      out[ids_[s].key()] = aggregate_of(list);
    return out;
  }

  /// The aggregate of one sensor's readings (two-pass, long double).
  static expected_aggregate aggregate_of(const std::vector<const reading_message*>& list) {
    expected_aggregate e;
    e.count = list.size();
    long double sum = 0;
    e.min = e.max = list.front()->value;
    for (const auto* m : list) {
      sum += m->value;
      e.min = std::min(e.min, m->value);
      e.max = std::max(e.max, m->value);
    }
    long double mean = sum / static_cast<long double>(list.size());
    long double squares = 0;
    for (const auto* m : list)
      squares += (m->value - mean) * (m->value - mean);
    e.mean = static_cast<double>(mean);
    e.stddev = static_cast<double>(std::sqrt(squares / static_cast<long double>(list.size())));
    e.last = list.back()->value;
    e.last_timestamp = list.back()->timestamp;
    return e;
  }

private:
  static std::string two(std::size_t n) { return (n < 10 ? "0" : "") + std::to_string(n); }

  std::vector<sensor_id> ids_;
  std::vector<double> means_;
  std::vector<reading_message> messages_;
};

/// Relative closeness for mean and stddev ("exact to 1e-9 relative").
inline bool close(double got, double want) {
  return std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want));
}

} // namespace telluride::test
