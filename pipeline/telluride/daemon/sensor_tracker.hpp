// sensor_tracker.hpp — every sensor's aggregate, shared by all batch processors.
//
// Lives outside the restarted pipeline, so a reconfiguration never loses state. Sharded by
// sensor hash into a fixed number of shards, independent of pipeline concurrency; each shard
// has its own lock, aggregates, alert counters and message-id window. A batch is applied
// shard by shard: readings whose message_id was applied before are skipped (counted once,
// CONTRACT §4), the rest are checked against alert thresholds in order, folded into
// per-sensor partials and merged into the aggregates. Thread-safe.
#pragma once

#include "telluride/daemon/reading_decoder.hpp"
#include "telluride/domain/alert_tracker.hpp"
#include "telluride/domain/message_id_window.hpp"
#include "telluride/domain/sensor_table.hpp"

#include <cstddef>
#include <cstdint>
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
  /// `id_capacity`: message ids remembered over all shards.
  sensor_tracker(std::size_t shards, alert_rules rules, std::size_t id_capacity);

  struct outcome {
    std::uint64_t applied = 0;     ///< readings counted
    std::uint64_t duplicates = 0;  ///< readings whose message_id was already applied
    std::vector<alert> alerts;     ///< raised by this batch, in order
  };

  /// One reading of a batch: what was decoded, and its AMQP message_id (empty when absent).
  struct input {
    const decoded_reading* decoded = nullptr;
    std::string_view message_id;
  };

  /// Applies readings in the order given (one batch processor's batch).
  outcome apply(std::span<const input> readings);

  /// The aggregate messages (CONTRACT §3) of the aggregates changed since the last call,
  /// clearing their flags; made under each shard's lock, with no copy of the aggregates.
  std::vector<std::string> take_changed_json();
  std::optional<sensor_aggregate> find(const sensor_key& key) const;
  std::size_t size() const;
  std::uint64_t alerts_raised() const;

private:
  struct shard {
    mutable std::mutex mutex;
    sensor_table table;
    alert_tracker alerts;
    message_id_window ids;
    std::uint64_t alerts_raised = 0;
    shard(const alert_rules& rules, std::size_t capacity) : alerts(rules), ids(capacity) {}
  };
  shard& shard_of(std::uint64_t hash) const { return *shards_[hash % shards_.size()]; }

  std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace telluride
