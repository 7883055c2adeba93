#include "telluride/domain/message_id_window.hpp"

#include "telluride/domain/hash.hpp"

#include <algorithm>
#include <bit>

namespace telluride {

namespace {

constexpr std::size_t max_capacity = std::size_t{1} << 31;

} // namespace

std::uint64_t message_id_fingerprint(std::string_view id) noexcept {
  return hash_bytes(id);
}

message_id_window::message_id_window(std::size_t capacity) {
  capacity = std::clamp<std::size_t>(capacity, 1, max_capacity);
  ring_.resize(capacity);
  // At most half the slots are in use, which keeps probe sequences short.
  slots_.assign(std::bit_ceil(2 * capacity), empty_slot);
  mask_ = slots_.size() - 1;
}

std::size_t message_id_window::probe(std::uint64_t key) const noexcept {
  std::size_t slot = key & mask_;
  while (slots_[slot] != empty_slot && slots_[slot] != key)
    slot = (slot + 1) & mask_;
  return slot;
}

bool message_id_window::contains(std::uint64_t fingerprint) const noexcept {
  return slots_[probe(slot_key(fingerprint))] != empty_slot;
}

void message_id_window::forget_oldest() noexcept {
  std::size_t hole = probe(slot_key(ring_[next_]));
  // Backward-shift deletion: pull later members of the probe run into the hole when the
  // hole lies between their home slot and where they sit.
  for (std::size_t slot = (hole + 1) & mask_; slots_[slot] != empty_slot; slot = (slot + 1) & mask_) {
    const std::size_t home = slots_[slot] & mask_;
    if (((slot - home) & mask_) >= ((slot - hole) & mask_)) {
      slots_[hole] = slots_[slot];
      hole = slot;
    }
  }
  slots_[hole] = empty_slot;
  --size_;
}

bool message_id_window::first_time(std::uint64_t fingerprint) {
  const std::uint64_t key = slot_key(fingerprint);
  std::size_t slot = probe(key);
  if (slots_[slot] != empty_slot)
    return false;
  if (size_ == ring_.size()) {
    forget_oldest();
    slot = probe(key);
  }
  ring_[next_] = fingerprint;
  slots_[slot] = key;
  next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
  ++size_;
  return true;
}

} // namespace telluride
