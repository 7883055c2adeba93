// sensor_table.hpp — every sensor's aggregate since the daemon started.
//
// Batch processors fold their batches (`batch_folder`) and the table merges the partials; every
// `aggregate_interval` the publisher takes the aggregates that changed since its last turn. A
// sensor_quota, when given, bounds how many sensors the tables create.
//
// Memory, per sensor: its aggregate (152 bytes, in blocks of three: ~155 with the allocator's
// overhead), an 8-byte slot of the open-addressing index (kept between a quarter and half full:
// 16-32 bytes), a 4-byte entry in the changed list and a changed bit: ~190-205 bytes in all
// (`bench/run.sh sensors` measures it: 201 at 10,000 sensors), and no allocation per sensor
// unless an id is a string. Aggregates never move once created.
//
// A slot holds its aggregate's position and the upper half of its key's hash, so a lookup
// passes the slots of other sensors without reading their aggregates: the only aggregate it
// reads is the one it looks for (one cache miss, which prefetch_aggregate can start early),
// where comparing keys would read one more, on another line, for about half the lookups of a
// table that is nearly half full.
//
// Not thread-safe: one owner (an actor, or a shard under its lock) calls everything.
#pragma once

#include "telluride/domain/batch_fold.hpp"
#include "telluride/domain/prefetch.hpp"
#include "telluride/domain/sensor_aggregate.hpp"
#include "telluride/domain/sensor_key.hpp"
#include "telluride/domain/sensor_quota.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace telluride {

class sensor_table {
public:
  /// Merges each partial into its sensor's aggregate (creating it on first sight) and marks
  /// the aggregate changed. `last_reading`/`last_timestamp` take the partial's, so partials
  /// of one sensor must be applied in broker order.
  void apply(std::span<const sensor_partial> partials);
  void apply(const sensor_partial& partial);

  /// The position of the sensor `key`'s aggregate (0, 1, ... in order of first sight). A new
  /// sensor gets an empty aggregate if `quota` grants it a place (always without a quota);
  /// none when the quota refuses it, and then nothing is kept.
  std::optional<std::uint32_t> admit(const sensor_key& key, sensor_quota* quota = nullptr) {
    return admit(key, hash_value(key), quota);
  }
  /// The same, for a key whose hash_value the caller has.
  std::optional<std::uint32_t> admit(const sensor_key& key, std::uint64_t hash, sensor_quota* quota = nullptr);

  /// Hints for a batch (prefetch.hpp), in two passes: first the index slot where admit
  /// starts to look for the key of this hash, then, with that slot in the cache, the
  /// aggregate it names.
  void prefetch_slot(std::uint64_t hash) const noexcept {
    if (!slots_.empty())
      prefetch_line(&slots_[home(hash)]);
  }
  void prefetch_aggregate(std::uint64_t hash) const noexcept {
    if (slots_.empty())
      return;
    if (const slot& found = slots_[probe_tag(hash, home(hash))]; found.position != empty_slot)
      prefetch_line(&aggregates_[found.position - 1]);
  }

  /// Hint (prefetch.hpp): every line of the aggregate at `position`, which admit or assign
  /// returned.
  void prefetch_at(std::uint32_t position) const noexcept {
    const char* first = reinterpret_cast<const char*>(&aggregates_[position]);
    for (std::size_t at = 0; at < sizeof(sensor_aggregate); at += 64)
      prefetch_line(first + at);
    prefetch_line(first + sizeof(sensor_aggregate) - 1);
  }

  /// Merges `partial` into the aggregate at `position`, which must be its sensor's, as apply
  /// does.
  void merge(std::uint32_t position, const sensor_partial& partial);

  /// Sets the sensor of `aggregate.key` to exactly `aggregate` (stats, last reading and
  /// timestamp), creating it on first sight (without a quota), and marks it changed, so the
  /// publisher sends it: a sensor's record from a checkpoint, restored. Returns its position.
  std::uint32_t assign(const sensor_aggregate& aggregate);

  /// The aggregate at `position`, which admit or assign returned.
  const sensor_aggregate& at(std::uint32_t position) const { return aggregates_[position]; }

  /// Visits the aggregates changed since the previous call, in the order they first changed,
  /// and clears their changed flags; visits nothing when nothing changed.
  void take_changed(const std::function<void(const sensor_aggregate&)>& visit);
  /// The same for the `max` that changed first; the others stay changed, in their order (a
  /// sensor taken here that changes again goes behind them). Returns how many it visited.
  std::size_t take_changed(const std::function<void(const sensor_aggregate&)>& visit, std::size_t max);
  /// Aggregates changed since they were last taken.
  std::size_t changed_count() const noexcept { return changed_.size(); }

  /// The sensor's aggregate, or nullptr for a sensor never seen. Sensors are never removed,
  /// so the pointer stays valid as long as the table (its contents change with `apply`).
  const sensor_aggregate* find(const sensor_key& key) const;

  /// Number of sensors seen.
  std::size_t size() const noexcept { return aggregates_.size(); }

  /// Calls `visit` for every aggregate, in the order the sensors were first seen.
  void for_each(const std::function<void(const sensor_aggregate&)>& visit) const;

private:
  static constexpr std::uint32_t empty_slot = 0;

  struct slot {
    std::uint32_t position = empty_slot;  ///< the aggregate's position + 1; empty_slot: none
    std::uint32_t tag = 0;                ///< tag_of the key's hash
  };
  static std::uint32_t tag_of(std::uint64_t hash) noexcept { return static_cast<std::uint32_t>(hash >> 32); }

  /// Where `hash`'s probe starts, and the slot after `at`.
  std::size_t home(std::uint64_t hash) const noexcept { return static_cast<std::size_t>(hash) & (slots_.size() - 1); }
  std::size_t next(std::size_t at) const noexcept { return (at + 1) & (slots_.size() - 1); }
  /// The index slot holding `key`'s position, or the empty slot that ends its probe.
  std::size_t probe(const sensor_key& key, std::uint64_t hash) const noexcept;
  /// From `at` on, the first slot of `hash`'s probe whose tag matches, or the empty slot that
  /// ends it: from home(hash), almost always `probe`'s answer, found reading no aggregate.
  std::size_t probe_tag(std::uint64_t hash, std::size_t at) const noexcept;
  void grow();
  void mark_changed(std::uint32_t position);

  std::deque<sensor_aggregate> aggregates_;  // in order of first sight; never moved
  std::vector<slot> slots_;                  // linear probing
  std::vector<std::uint32_t> changed_;       // positions, in the order they first changed
  std::vector<bool> is_changed_;             // by position
};

} // namespace telluride
