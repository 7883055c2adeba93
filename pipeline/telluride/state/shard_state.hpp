// shard_state.hpp — one shard's state: what its owner applies readings to, and what its
// checkpoints save and a restore brings back (docs/checkpoints.md).
//
// A shard's state is its sensors' aggregates (sensor_table), their alert counters and counts
// of alerts raised (alert_tracker), the message ids it remembers (message_id_window, by
// fingerprint) and the count of alerts it raised in all. Readings go in with apply, in broker order, exactly as the daemon's sensor_tracker
// applies a batch to one of its shards (it keeps one shard_state per shard): readings whose
// message_id was applied before are skipped, the rest checked against the alert thresholds in
// order, folded per sensor and merged; a new sensor takes a place of the optional quota.
//
// Checkpoints come out as images: take_snapshot (everything) and take_delta (the sensors
// changed and the ids remembered since the previous image). restore and apply(image) put
// them back, so that a shard restored from a snapshot and the deltas after it is the live one:
// the same aggregates bit for bit, the same next alert, the same duplicates recognised. The
// change tracking for images is the shard's own: the sensor table's changed list belongs to
// the aggregate publisher (take_changed).
//
// Not thread-safe: one owner (an actor, or a shard under its lock) calls everything.
#pragma once

#include "telluride/domain/alert_tracker.hpp"
#include "telluride/domain/batch_fold.hpp"
#include "telluride/domain/message_id_window.hpp"
#include "telluride/domain/reading.hpp"
#include "telluride/domain/sensor_quota.hpp"
#include "telluride/domain/sensor_table.hpp"
#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/inherited_state.hpp"
#include "telluride/state/shard_image.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace telluride {

class shard_state {
public:
  /// Alerts follow `rules`; the last `id_capacity` message ids are remembered.
  shard_state(alert_rules rules, std::size_t id_capacity);

  /// One reading and the fingerprint of its AMQP message_id (message_id_fingerprint); none for a
  /// reading without a message_id (or an empty one), which is never taken for a duplicate.
  struct input {
    const telluride::reading* reading = nullptr;
    std::optional<std::uint64_t> message_id;
    /// hash_value(reading->key) when the caller has it (the decoder works it out); 0: worked
    /// out here (a key whose hash is 0 then costs the work again, and nothing else).
    std::uint64_t key_hash = 0;
  };

  /// What applying readings did.
  struct outcome {
    std::uint64_t applied = 0;         ///< readings counted
    std::uint64_t duplicates = 0;      ///< readings whose message_id was already applied
    std::vector<std::size_t> refused;  ///< positions of readings refused: new sensors the quota refused
    std::vector<alert> alerts;         ///< raised by these readings, in order
  };

  /// Applies `readings` in the order given, adding to `out` (refused positions index
  /// `readings`). A new sensor takes a place of `quota` when one is given; its readings are
  /// refused when the quota has none left. A refused reading's message_id is not remembered.
  void apply(std::span<const input> readings, sensor_quota* quota, outcome& out);
  outcome apply(std::span<const input> readings, sensor_quota* quota = nullptr);

  /// The whole state: every sensor in order of first sight, every remembered id oldest first.
  /// Starts a new change period: the next delta holds what changes after this call.
  shard_image take_snapshot();

  /// The sensors changed (whole records, in the order they first changed) and the ids
  /// remembered since the previous snapshot or delta, and alerts_raised. Starts a new change
  /// period.
  shard_image take_delta();

  /// The record with `header` (a snapshot or a delta) holding what take_snapshot or take_delta
  /// would give, encoded straight from the state, without copying the image first. Starts a
  /// new change period as they do. A delta's sensors keep the stats fields that did not move
  /// since the records this state wrote or read before (checkpoint_record.hpp, Kept fields):
  /// it decodes against the state those records restore. A write that fails must be followed
  /// by a snapshot (shard_chain does so).
  expected<std::string> encode_image(const record_header& header);

  /// Whether a delta taken now would hold a sensor or an id.
  bool has_changes() const noexcept { return !changed_.empty() || ids_since_image_ != 0; }

  /// Replaces the whole state by a snapshot's. The id capacity stays this shard's: when the
  /// snapshot holds more ids, the oldest are forgotten. Every restored sensor is marked changed
  /// for the aggregate publisher; the image change period starts afresh.
  void restore(const shard_image& snapshot);

  /// Folds a delta in: each sensor's record replaces (or creates) the sensor's, the ids are
  /// remembered in order (forgetting the oldest beyond the capacity), alerts_raised is the
  /// delta's. Marks the sensors changed for the aggregate publisher, not for the next delta,
  /// and notes what the records now hold of them (the next delta's kept fields), as restore
  /// does for every sensor.
  void apply(const shard_image& delta);

  /// After a change of the number of shards: a sensor met for the first time takes its record
  /// from `inherited` before its readings are applied (inherited_state.hpp). Kept by restore.
  void inherit_from(std::shared_ptr<const inherited_state> inherited) noexcept { inherited_ = std::move(inherited); }
  /// A shard that starts its layout afresh: remembers the inherited message ids (a reading
  /// routed both to an old and to a new queue around the change is recognised), and with
  /// `with_alerts` takes the inherited count of alerts raised (one shard of the layout does).
  void start_layout(const inherited_state& inherited, bool with_alerts);

  /// Visits the aggregates changed since the previous call (sensor_table::take_changed).
  void take_changed(const std::function<void(const sensor_aggregate&)>& visit) { table_.take_changed(visit); }
  /// At most `max` of them, those that changed first; returns how many.
  std::size_t take_changed(const std::function<void(const sensor_aggregate&)>& visit, std::size_t max) {
    return table_.take_changed(visit, max);
  }

  const sensor_table& table() const noexcept { return table_; }
  const alert_tracker& alerts() const noexcept { return alerts_; }
  const message_id_window& message_ids() const noexcept { return ids_; }
  std::uint64_t alerts_raised() const noexcept { return alerts_raised_; }

private:
  void mark_changed(std::uint32_t position);
  sensor_record record_at(std::uint32_t position) const;
  /// Sets one sensor to its record (aggregate, alert counter, alerts raised); its position.
  std::uint32_t put(const sensor_record& record);
  /// The sensor at `position` is now in a record as it is: returns the kept fields
  /// (kept_field bits) that a record before held as they are now.
  std::uint8_t note_recorded(std::uint32_t position);
  void forget_changes() noexcept;

  sensor_table table_;
  alert_tracker alerts_;
  message_id_window ids_;
  std::uint64_t alerts_raised_ = 0;
  std::vector<std::uint32_t> changed_;  // positions changed since the last image, in order
  std::vector<bool> is_changed_;        // by position
  std::size_t ids_since_image_ = 0;     // ids remembered since the last image
  // By position: the bits of the origin, inverse_unit, min and max the records written or read
  // hold of each sensor (kept_field order), for the next delta's kept fields.
  struct recorded_fields {
    std::array<std::uint64_t, 4> bits{};
    bool is_recorded = false;
  };
  std::vector<recorded_fields> recorded_;
  std::shared_ptr<const inherited_state> inherited_;

  // apply's buffers, kept from batch to batch so that a warm batch allocates nothing.
  struct scratch {
    batch_folder folder;
    std::vector<const telluride::reading*> all;
    std::vector<std::uint64_t> hashes;  // of all's keys
    std::vector<const telluride::reading*> fresh;
    std::vector<std::optional<std::uint32_t>> places;  // per partial; none: refused
  } scratch_;
};

} // namespace telluride
