// message_id_window.hpp — recognises redelivered readings by their AMQP message_id.
//
// "Counted once" (docs/guarantees.md): after a broker failure, readings that were in flight come
// back. The window remembers the most recent `capacity` ids in arrival order (FIFO: the
// oldest is forgotten first, a repeat does not refresh an id) in a ring plus an open-addressing
// index, so a lookup is O(1) and memory is fixed: about 56 bytes per id plus the id text
// beyond 15 bytes. Pick the capacity from what can be in flight, e.g. producers ×
// prefetch_count × 4. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

class message_id_window {
public:
  /// Remembers up to `capacity` ids (at least 1, at most 2^31).
  explicit message_id_window(std::size_t capacity);

  /// True when `id` is not among the remembered ids; it is then remembered, forgetting the
  /// oldest id when full. False, changing nothing, when `id` was seen within the window.
  bool first_time(std::string_view id);

  /// Whether `id` is remembered; changes nothing.
  bool contains(std::string_view id) const;

  /// Visits the latest `n` remembered ids (all of them when n >= size()), oldest first: replayed
  /// through first_time into a window of the same capacity, all ids rebuild this window.
  void for_each_latest(std::size_t n, const std::function<void(std::string_view)>& visit) const;

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return ring_.size(); }

private:
  struct entry {
    std::string id;
    std::uint64_t hash = 0;
  };

  static constexpr std::uint64_t empty_slot = UINT64_MAX;

  /// The index slot holding `id`, or the empty slot that ends its probe sequence.
  std::size_t probe(std::string_view id, std::uint64_t hash) const noexcept;
  void forget_oldest() noexcept;

  std::vector<entry> ring_;            // ids in arrival order, oldest at next_ once full
  std::vector<std::uint64_t> slots_;   // linear probing: 32 hash bits | ring_ position
  std::size_t mask_ = 0;
  std::size_t next_ = 0;
  std::size_t size_ = 0;
};

} // namespace telluride
