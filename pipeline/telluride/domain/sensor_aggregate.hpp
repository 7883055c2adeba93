// sensor_aggregate.hpp — what Telluride knows about one sensor, and its published form.
//
// The aggregate message of docs/wire-format.md (Aggregate):
// `{"line_id":10,"device_id":100,"sensor_id":1000,"total_reads":1234,"min":96.1,"max":102.3,
//   "mean":99.4,"stddev":1.02,"last_reading":99.0,"last_timestamp":"..."}`
// The sensor table keeps one per sensor, so it is kept small: 152 bytes, with no heap
// allocation unless an id is a string (see sensor_table.hpp for the whole cost per sensor).
#pragma once

#include "telluride/domain/compact_sensor_key.hpp"
#include "telluride/domain/running_stats.hpp"
#include "telluride/domain/timestamp.hpp"

#include <string>

namespace telluride {

struct sensor_aggregate {
  compact_sensor_key key;
  running_stats stats;             ///< over every reading applied since the daemon started
  double last_reading = 0;         ///< the value of the latest reading, in broker order
  timestamp_text last_timestamp;   ///< the timestamp of that reading, inline
};

/// Appends the aggregate message: the fields above in the documented order, ids with their
/// JSON types, doubles in shortest round-trip form. Every number is finite (running_stats
/// guarantees it for finite readings), so the message never holds null.
void append_json(std::string& out, const sensor_aggregate& aggregate);

/// The aggregate message as a string.
std::string to_json_text(const sensor_aggregate& aggregate);

} // namespace telluride
