// sensor_tracker.hpp — every sensor's aggregate, shared by all batch processors.
//
// Lives outside the restarted pipeline, so a reconfiguration never loses state. Sharded by
// sensor hash into a fixed number of shards, independent of pipeline concurrency; each shard
// has its own lock and state (shard_state: aggregates, alert counters and message-id window).
// With one readings queue (shards 1) in memory mode the daemon uses 16 shards picked by sensor
// hash (less lock contention); in durable mode one. With K > 1 shard queues the tracker has K
// slots routed by layout (`by_layout`): a reading goes to the slot of the shard queue it was
// delivered on (input::shard), the state checkpoints hold (with_shard) and a restore brings
// back (restore_shard); the daemon never computes the broker's consistent hash.
// A batch is applied shard by shard: readings of a sensor the tracker does not know are refused once
// `max_sensors` sensors are tracked; readings whose message_id was applied before are skipped
// (docs/guarantees.md, Counted once); the rest are checked against alert thresholds in order,
// folded into per-sensor partials and merged into the aggregates. Thread-safe.
//
// The bound holds over all shards through one atomic count (sensor_quota), touched only when
// a shard meets a sensor it does not know. A sensor lives in exactly one shard and is never
// forgotten, so once admitted every later reading of it is counted, and once refused (the
// bound is never lowered) every later reading of it is refused.
#pragma once

#include "telluride/daemon/reading_decoder.hpp"
#include "telluride/domain/alert_tracker.hpp"
#include "telluride/domain/sensor_quota.hpp"
#include "telluride/state/shard_state.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

class sensor_tracker {
public:
  /// `id_capacity`: message ids remembered over all shards; `max_sensors`: sensors tracked at
  /// most, over all shards.
  sensor_tracker(std::size_t shards, alert_rules rules, std::size_t id_capacity, std::uint64_t max_sensors);

  /// How a reading finds its shard: by its sensor's hash, or by the shard of the layout it was
  /// delivered from (input::shard, below shard_count()).
  enum class routing : std::uint8_t { by_hash, by_layout };
  sensor_tracker(std::size_t shards, routing route, alert_rules rules, std::size_t id_capacity,
                 std::uint64_t max_sensors);

  /// What a batch did (shard_state::outcome over all shards; `refused` holds positions in the
  /// batch of readings of new sensors beyond max_sensors).
  struct outcome : shard_state::outcome {
    bool is_first_refusal = false;   ///< this call refused a reading for the first time since start
  };

  /// One reading of a batch: what was decoded (with its message_id's fingerprint).
  struct input {
    const decoded_reading* decoded = nullptr;
    std::uint32_t shard = 0;  ///< by_layout: the shard queue it came from
  };

  /// Applies readings in the order given (one batch processor's batch).
  outcome apply(std::span<const input> readings);

  /// The aggregate messages (docs/wire-format.md, Aggregate) of the aggregates changed since
  /// they were last taken, clearing their flags; made under each shard's lock, with no copy of
  /// them. A round of everything changed now, at once.
  std::vector<std::string> take_changed_json();

  /// The aggregates changed when a publishing round began, by shard, still to be taken. A
  /// sensor that changes again during the round waits for the next one: each is published at
  /// most once a round.
  struct aggregate_round {
    std::vector<std::size_t> left;
    bool is_done() const noexcept;
  };
  /// A round of the aggregates changed now.
  aggregate_round begin_round() const;
  /// Up to `max` aggregate messages of `round`, each shard's oldest changes first, as
  /// take_changed_json makes them; none once the round is done.
  std::vector<std::string> take_changed_json(aggregate_round& round, std::size_t max);
  /// The sensor's aggregate and the alerts raised for it (its consecutive_warnings are not
  /// filled in), or none.
  std::optional<sensor_record> find(const sensor_key& key) const;
  /// Runs `visit` on every sensor's aggregate and count of alerts raised, shard by shard under
  /// each shard's lock (so it holds up the readings of one shard at a time); sensors known only
  /// from an inherited state are not visited. For GET /api/sensors.
  void for_each_sensor(const std::function<void(const sensor_aggregate&, std::uint64_t alerts)>& visit) const;
  std::size_t size() const;
  /// Readings in the aggregates, as `total_reads` counts them: every sensor of every slot, and
  /// every inherited sensor not met since (what the state counts since the deployment began).
  std::uint64_t total_reads() const;
  /// The readings in the aggregates of slot `shard` (inherited sensors aside).
  std::uint64_t total_reads_in(std::size_t shard) const;
  std::uint64_t alerts_raised() const;

  /// Shards of the tracker (shard_state each, under its own lock).
  std::size_t shard_count() const noexcept { return shards_.size(); }
  /// Message ids each shard remembers.
  std::size_t id_capacity_per_shard() const noexcept { return id_capacity_per_shard_; }
  /// Runs `visit` on shard `shard`'s state under its lock (checkpoints take their images so).
  void with_shard(std::size_t shard, const std::function<void(shard_state&)>& visit);
  /// Replaces shard `shard`'s state by `restored` (before any reading is applied to it); its
  /// sensors take places of the max_sensors quota.
  void restore_shard(std::size_t shard, shard_state restored);
  /// Forgets shard `shard`'s state (given up to another daemon). Its sensors keep their places
  /// in the max_sensors quota (the quota never shrinks).
  void clear_shard(std::size_t shard);
  /// Sensors of shard `shard`.
  std::size_t sensors_in(std::size_t shard) const;
  /// After a change of the number of shards: every slot takes a sensor it meets for the first
  /// time from `inherited` (shard_state::inherit_from), restored and cleared slots included;
  /// with one layout of one daemon (by_hash), find answers from it for a sensor not met yet.
  /// Before any reading is applied.
  void inherit_from(std::shared_ptr<const inherited_state> inherited);
  const std::shared_ptr<const inherited_state>& inherited() const noexcept { return inherited_; }
  routing route() const noexcept { return route_; }

  /// Sensors tracked (lock-free; equals size()).
  std::uint64_t tracked() const noexcept { return quota_.taken(); }
  std::uint64_t max_sensors() const noexcept { return quota_.max(); }
  /// Readings refused since start because their sensor was new and the bound reached.
  std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

private:
  struct shard {
    mutable std::mutex mutex;
    shard_state state;
    shard(const alert_rules& rules, std::size_t capacity) : state(rules, capacity) {}
  };
  shard& shard_of(std::uint64_t hash) const { return *shards_[hash % shards_.size()]; }
  std::size_t slot_of(const input& r) const noexcept {
    return route_ == routing::by_layout ? r.shard % shards_.size() : r.decoded->hash % shards_.size();
  }
  /// Applies the readings at `positions` (all of shard `s`, in batch order) under its lock.
  void apply_to_shard(shard& s, std::span<const input> readings, std::span<const std::uint32_t> positions,
                      outcome& out);

  std::vector<std::unique_ptr<shard>> shards_;
  routing route_ = routing::by_hash;
  alert_rules rules_;
  std::size_t id_capacity_per_shard_ = 0;
  sensor_quota quota_;
  std::atomic<std::uint64_t> refused_{0};
  std::shared_ptr<const inherited_state> inherited_;
};

} // namespace telluride
