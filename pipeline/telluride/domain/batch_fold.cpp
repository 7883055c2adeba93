#include "telluride/domain/batch_fold.hpp"

#include <unordered_map>

namespace telluride {

namespace {

// Looks readings' keys up in place: the map holds pointers into the batch, not copies.
struct key_pointer_hash {
  std::size_t operator()(const sensor_key* key) const noexcept { return sensor_key_hash{}(*key); }
};

struct key_pointer_equal {
  bool operator()(const sensor_key* a, const sensor_key* b) const noexcept { return *a == *b; }
};

} // namespace

std::vector<sensor_partial> fold_batch(std::span<const reading> batch) {
  std::vector<const reading*> pointers;
  pointers.reserve(batch.size());
  for (const reading& r : batch)
    pointers.push_back(&r);
  return fold_batch(std::span<const reading* const>{pointers});
}

std::vector<sensor_partial> fold_batch(std::span<const reading* const> batch) {
  std::vector<sensor_partial> partials;
  std::vector<const reading*> last_of;  // per partial: its sensor's last reading so far
  std::unordered_map<const sensor_key*, std::size_t, key_pointer_hash, key_pointer_equal> index;
  index.reserve(batch.size());
  for (const reading* rp : batch) {
    const reading& r = *rp;
    auto [slot, is_new] = index.try_emplace(&r.key, partials.size());
    if (is_new) {
      partials.emplace_back();
      last_of.push_back(&r);
    }
    partials[slot->second].stats.add(r.value);
    last_of[slot->second] = &r;
  }
  for (std::size_t i = 0; i < partials.size(); ++i) {
    partials[i].key = last_of[i]->key;
    partials[i].last_reading = last_of[i]->value;
    partials[i].last_timestamp = last_of[i]->timestamp;
  }
  return partials;
}

} // namespace telluride
