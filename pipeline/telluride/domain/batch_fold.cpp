#include "telluride/domain/batch_fold.hpp"

#include <algorithm>
#include <bit>

namespace telluride {

std::span<const sensor_partial> batch_folder::fold(std::span<const reading* const> batch,
                                                  std::span<const std::uint64_t> hashes) {
  partials_.clear();
  partial_of_.clear();
  if (batch.empty())
    return {};
  // At most half full: short probe sequences.
  const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(batch.size() * 2, 16));
  slots_.assign(capacity, 0);
  const std::size_t mask = capacity - 1;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const reading* r = batch[i];
    const std::uint64_t hash = hashes.empty() ? hash_value(r->key) : hashes[i];
    std::size_t slot = static_cast<std::size_t>(hash) & mask;
    // The hash first: another sensor's partial is passed without reading its key.
    auto is_other = [&](const sensor_partial& p) { return p.hash != hash || *p.key != r->key; };
    while (slots_[slot] != 0 && is_other(partials_[slots_[slot] - 1]))
      slot = (slot + 1) & mask;
    if (slots_[slot] == 0) {
      partials_.push_back(sensor_partial{&r->key, hash, {}, r});
      slots_[slot] = static_cast<std::uint32_t>(partials_.size());
    }
    partial_of_.push_back(slots_[slot] - 1);
    sensor_partial& partial = partials_[slots_[slot] - 1];
    partial.stats.add(r->value);
    partial.last = r;
  }
  return partials_;
}

} // namespace telluride
