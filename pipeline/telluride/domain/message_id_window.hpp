// message_id_window.hpp — recognises redelivered readings by their AMQP message_id.
//
// "Counted once" (docs/guarantees.md): after a broker failure, readings that were in flight come
// back. The window remembers the most recent `capacity` ids in arrival order (FIFO: the
// oldest is forgotten first, a repeat does not refresh an id). It keeps no id text, only each
// id's 64-bit fingerprint (message_id_fingerprint, computed once where a reading is decoded):
// a ring of fingerprints in arrival order plus an open-addressing index of them, so a lookup
// reads one cache line of the index, memory is fixed (24 bytes per id when the capacity is a
// power of two, at most 40) and remembering an id allocates nothing. Pick the capacity from
// what can be in flight, e.g. producers × prefetch_count × 4. Not thread-safe.
//
// The price of fingerprints: two ids with the same fingerprint are one id to the window. The
// fingerprint is a well-mixed 64-bit hash (any 32 bits of the fingerprints of 4 million
// sequential or binary ids collide as often as random values do), so with W ids remembered a
// new id is wrongly taken for a duplicate (and not counted) with probability about W / 2^64:
// for the default 64 Ki ids 3.6e-15 per reading, one reading wrongly dropped in about 9 years
// at a million readings a second. No defence against ids chosen to collide (no secret seed).
#pragma once

#include "telluride/domain/prefetch.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace telluride {

/// The fingerprint of a message id: hash_bytes of its bytes (hash.hpp). Checkpoints store it
/// (docs/checkpoints.md, format version 2), so it must never change for a given id.
std::uint64_t message_id_fingerprint(std::string_view id) noexcept;

class message_id_window {
public:
  /// Remembers up to `capacity` ids (at least 1, at most 2^31).
  explicit message_id_window(std::size_t capacity);

  /// True when the id with this fingerprint is not among the remembered ones; it is then
  /// remembered, forgetting the oldest id when full. False, changing nothing, when it was seen
  /// within the window.
  bool first_time(std::uint64_t fingerprint);

  /// Whether the id with this fingerprint is remembered; changes nothing.
  bool contains(std::uint64_t fingerprint) const noexcept;

  /// Asks the CPU for the cache lines that first_time(fingerprint) will read as the
  /// `ahead`-th first_time from now (0: the next one): the id's index slot and, once the
  /// window is full, the slot of the id it then forgets. Both are random places in an index
  /// of 16 bytes per id, so each is a cache miss; a batch that asks for all of its ids before
  /// it counts them waits for the misses together instead of one after the other. A hint:
  /// what first_time answers does not change.
  void prefetch(std::uint64_t fingerprint, std::size_t ahead) const noexcept {
    prefetch_line(&slots_[slot_key(fingerprint) & mask_]);
    if (size_ + ahead < ring_.size())
      return;
    std::size_t oldest = next_ + ahead;
    if (oldest >= ring_.size())
      oldest %= ring_.size();
    prefetch_line(&slots_[slot_key(ring_[oldest]) & mask_]);
  }

  /// Visits the fingerprints of the latest `n` remembered ids (all of them when n >= size()),
  /// oldest first: replayed through first_time into a window of the same capacity, all of them
  /// rebuild this window.
  /// A template, not a std::function: a checkpoint visits every id it holds, and an indirect
  /// call per id was 3-4 % of the checkpoint writer's samples.
  template <class Visit>
  void for_each_latest(std::size_t n, Visit&& visit) const {
    n = n < size_ ? n : size_;
    // The newest id sits just before next_; the ring wraps.
    std::size_t at = (next_ + ring_.size() - n) % ring_.size();
    for (std::size_t i = 0; i < n; ++i) {
      visit(ring_[at]);
      at = at + 1 == ring_.size() ? 0 : at + 1;
    }
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return ring_.size(); }

private:
  // A slot holds the fingerprint itself (the ids in the window have distinct fingerprints: a
  // second id with a remembered fingerprint is a duplicate and never goes in), so probing reads
  // the slot array only. 0 marks an empty slot: the fingerprint 0 is kept under another key,
  // which only makes it one more fingerprint that stands for two ids (odds as above). The ring
  // keeps fingerprints as given, so what for_each_latest visits is what came in.
  static constexpr std::uint64_t empty_slot = 0;
  static constexpr std::uint64_t slot_key(std::uint64_t fingerprint) noexcept {
    return fingerprint != empty_slot ? fingerprint : 0x9e3779b97f4a7c15ULL;
  }

  /// The index slot holding `key`, or the empty slot that ends its probe sequence.
  std::size_t probe(std::uint64_t key) const noexcept;
  void forget_oldest() noexcept;

  std::vector<std::uint64_t> ring_;    // fingerprints in arrival order, oldest at next_ once full
  std::vector<std::uint64_t> slots_;   // linear probing over slot keys (slot_key); 0: empty
  std::size_t mask_ = 0;
  std::size_t next_ = 0;
  std::size_t size_ = 0;
};

} // namespace telluride
