// pipeline_shape.hpp — the Causeway options of the readings pipeline, from Telluride's config.
//
//   producers (producer_concurrency channels, prefetch_count each)
//     → processors (processor_concurrency), partitioned by sensor
//     → sensor_batcher_one | sensor_batcher_two, chosen by the sensor hash's lowest bit,
//       each partitioned by sensor over its batch processors
//
// so every reading of one sensor goes through one processor and one batch processor, in the
// order the broker delivered them (docs/guarantees.md, Per-sensor order).
#pragma once

#include "telluride/domain/config.hpp"

#include <causeway/options.hpp>

#include <cstdint>
#include <string_view>

namespace telluride {

inline constexpr std::string_view batcher_one = "sensor_batcher_one";
inline constexpr std::string_view batcher_two = "sensor_batcher_two";

/// The batcher of a sensor hash: sensor_batcher_one (position 0) or sensor_batcher_two (1), in
/// the order make_pipeline_options declares them.
causeway::batcher_at batcher_for(std::uint64_t sensor_hash) noexcept;

causeway::pipeline_options make_pipeline_options(const config& cfg);

} // namespace telluride
