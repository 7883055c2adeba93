// batch_fold.hpp — folds a batch of readings into one partial aggregate per sensor.
//
// A batch processor folds its batch on its own (no shared state), then hands the partials to
// the `sensor_table`, which merges them: one merge per sensor per batch instead of one
// update per reading. Folding copies nothing: a partial points at the readings it came from,
// and a `batch_folder` keeps its buffers from batch to batch, so a warm fold allocates nothing.
#pragma once

#include "telluride/domain/reading.hpp"
#include "telluride/domain/running_stats.hpp"
#include "telluride/domain/sensor_key.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace telluride {

/// The readings of one sensor within one batch. Points into the batch: use it while the
/// batch's readings live.
struct sensor_partial {
  const sensor_key* key = nullptr;
  std::uint64_t hash = 0;  ///< hash_value(*key)
  running_stats stats;
  const reading* last = nullptr;  ///< the sensor's last reading in batch order

  double last_reading() const noexcept { return last->value; }
  const timestamp_text& last_timestamp() const noexcept { return last->timestamp; }
};

/// Folds batches, reusing its buffers. Not thread-safe: one per thread (or per owner).
class batch_folder {
public:
  /// One partial per distinct sensor in `batch`, in order of each sensor's first reading;
  /// valid until the next call and while the readings live. `hashes`, when given, hold
  /// hash_value of each reading's key (a decoder worked them out already); else they are
  /// worked out here.
  std::span<const sensor_partial> fold(std::span<const reading* const> batch,
                                       std::span<const std::uint64_t> hashes = {});

  /// The position in the last fold's partials of the partial that holds `batch[position]`.
  std::uint32_t partial_of(std::size_t position) const noexcept { return partial_of_[position]; }

private:
  std::vector<sensor_partial> partials_;
  std::vector<std::uint32_t> partial_of_;  // by position in the batch
  std::vector<std::uint32_t> slots_;  // open addressing: partial index + 1, 0 = empty
};

} // namespace telluride
