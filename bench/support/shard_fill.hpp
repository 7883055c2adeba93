// shard_fill.hpp — readings applied to a shard's state, for the checkpoint and restore
// benchmarks (header-only: bench_support does not link the state library).
#pragma once

#include "telluride/state/shard_state.hpp"

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace bench {

/// Applies `per_sensor` readings to each of sensors [first, first + count) (integer ids, the
/// simulator's timestamp form), in batches of 100, with message ids `run-3f9a2c-<n>` from
/// `next_id` on.
inline void apply_readings(telluride::shard_state& shard, std::size_t first, std::size_t count, int per_sensor,
                           std::size_t& next_id) {
  using namespace telluride;
  std::deque<reading> readings;
  std::vector<shard_state::input> batch;
  for (int round = 0; round < per_sensor; ++round)
    for (std::size_t n = first; n < first + count; ++n) {
      reading& r = readings.emplace_back();
      r.key = sensor_key{json_id{10}, json_id{100}, json_id{static_cast<std::int64_t>(n)}};
      r.value = 99.4 + static_cast<double>((n * 7 + static_cast<std::size_t>(round) * 13) % 100) * 0.01;
      r.timestamp = "2021-02-12T01:18:51.838675Z";
      batch.push_back({&r, message_id_fingerprint("run-3f9a2c-" + std::to_string(next_id++))});
      if (batch.size() == 100) {
        shard.apply(batch);
        batch.clear();
        readings.clear();
      }
    }
  shard.apply(batch);
}

} // namespace bench
