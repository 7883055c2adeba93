#include "telluride/domain/message_id_window.hpp"

#include "telluride/domain/hash.hpp"

#include <algorithm>
#include <bit>

namespace telluride {

namespace {

constexpr std::size_t max_capacity = std::size_t{1} << 31;

// A slot holds the low 32 bits of its id's hash above the id's ring position, so probing and
// shifting read only the slot array (the home slot is `hash & mask`, and mask < 2^32); the
// ring, and the id text, are read only when the 32 bits match.
constexpr std::uint64_t make_slot(std::uint64_t hash, std::size_t position) noexcept {
  return (hash << 32) | position;
}

constexpr std::uint32_t hash_bits(std::uint64_t slot) noexcept {
  return static_cast<std::uint32_t>(slot >> 32);
}

constexpr std::uint32_t position_of(std::uint64_t slot) noexcept {
  return static_cast<std::uint32_t>(slot);
}

} // namespace

message_id_window::message_id_window(std::size_t capacity) {
  capacity = std::clamp<std::size_t>(capacity, 1, max_capacity);
  ring_.resize(capacity);
  // At most half the slots are in use, which keeps probe sequences short.
  slots_.assign(std::bit_ceil(2 * capacity), empty_slot);
  mask_ = slots_.size() - 1;
}

std::size_t message_id_window::probe(std::string_view id, std::uint64_t hash) const noexcept {
  const auto bits = static_cast<std::uint32_t>(hash);
  std::size_t slot = hash & mask_;
  for (; slots_[slot] != empty_slot; slot = (slot + 1) & mask_) {
    if (hash_bits(slots_[slot]) == bits && ring_[position_of(slots_[slot])].id == id)
      break;
  }
  return slot;
}

bool message_id_window::contains(std::string_view id) const {
  return slots_[probe(id, hash_bytes(id))] != empty_slot;
}

void message_id_window::forget_oldest() noexcept {
  std::size_t hole = ring_[next_].hash & mask_;
  while (position_of(slots_[hole]) != next_)
    hole = (hole + 1) & mask_;
  // Backward-shift deletion: pull later members of the probe run into the hole when the
  // hole lies between their home slot and where they sit.
  for (std::size_t slot = (hole + 1) & mask_; slots_[slot] != empty_slot;
       slot = (slot + 1) & mask_) {
    const std::size_t home = hash_bits(slots_[slot]) & mask_;
    if (((slot - home) & mask_) >= ((slot - hole) & mask_)) {
      slots_[hole] = slots_[slot];
      hole = slot;
    }
  }
  slots_[hole] = empty_slot;
  --size_;
}

bool message_id_window::first_time(std::string_view id) {
  const std::uint64_t hash = hash_bytes(id);
  std::size_t slot = probe(id, hash);
  if (slots_[slot] != empty_slot)
    return false;
  if (size_ == ring_.size()) {
    forget_oldest();
    slot = probe(id, hash);
  }
  ring_[next_].id.assign(id);
  ring_[next_].hash = hash;
  slots_[slot] = make_slot(hash, next_);
  next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
  ++size_;
  return true;
}

void message_id_window::for_each_latest(std::size_t n,
                                        const std::function<void(std::string_view)>& visit) const {
  n = std::min(n, size_);
  // The newest id sits just before next_; the ring wraps.
  std::size_t at = (next_ + ring_.size() - n) % ring_.size();
  for (std::size_t i = 0; i < n; ++i) {
    visit(ring_[at].id);
    at = at + 1 == ring_.size() ? 0 : at + 1;
  }
}

} // namespace telluride
