// reading_fleet.hpp — sensor readings (docs/wire-format.md, Reading) for benchmarks that fill
// a readings queue.
//
// Readings of `count` sensors, round-robin: reading `index` belongs to sensor index % count.
// Everything is a function of the index, so two preloads of one fleet hold the same bodies.
// Ids are integers derived from the sensor's number n (line = n/100+1, device = n/10+1,
// sensor = n+1); each sensor has a type (temperature, humidity, pressure, vibration in turn)
// and its own normal distribution, well below the default alert thresholds; timestamps start
// at 2021-02-12T01:18:51.838675Z and advance 1 ms per reading. A body is ~125 bytes:
//   {"line_id":1,"device_id":1,"sensor_id":1,"reading":24.1234,"timestamp":"...","type":"temperature"}
#pragma once

#include "causeway/amqp/publisher.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

class reading_fleet {
public:
  explicit reading_fleet(std::size_t count);

  /// Sets body, content_type application/json, persistent, and message_id `id_prefix` + index.
  void fill(std::size_t index, const std::string& id_prefix, causeway::amqp::outgoing_message& msg) const;

  std::size_t size() const noexcept { return sensors_.size(); }

private:
  struct sensor {
    std::string prefix;  // {"line_id":..,"device_id":..,"sensor_id":..,"reading":
    std::string suffix;  // ","type":"..."}
    double mean = 0;
    double stddev = 0;
  };
  std::vector<sensor> sensors_;
};

} // namespace bench
