// shard_image.hpp — what a checkpoint holds of one shard's state: all of it (a snapshot) or
// the part that changed since the shard's previous checkpoint (a delta).
//
// A sensor's record is whole in both: its aggregate (key, running_stats, last reading and
// timestamp), its count of consecutive warnings and its count of alerts raised, so applying a
// delta replaces a sensor's record (upsert) instead of adding to it. Message ids are their
// fingerprints (message_id_fingerprint), in the order they were remembered, oldest first:
// replayed through a message_id_window they rebuild it.
#pragma once

#include "telluride/domain/sensor_aggregate.hpp"

#include <cstdint>
#include <vector>

namespace telluride {

struct sensor_record {
  sensor_aggregate aggregate;
  std::uint64_t consecutive_warnings = 0;  ///< the sensor's alert counter (alert_tracker)
  std::uint64_t alerts = 0;                ///< alerts raised for the sensor since its state began
};

struct shard_image {
  std::uint64_t alerts_raised = 0;         ///< by the shard since it was first started
  std::vector<sensor_record> sensors;      ///< every sensor (snapshot) or the changed ones (delta)
  std::vector<std::uint64_t> message_ids;  ///< fingerprints: every id (snapshot) or the new ones (delta), oldest first
};

} // namespace telluride
