// config.hpp — Telluride's configuration as typed values.
//
// What each field means, its bounds, default and JSON key live in one table,
// `config_options()` in config_schema.hpp; a default-constructed `config` holds that table's
// defaults. Durations are std::chrono types here; the `_ms` suffix exists only in JSON keys.
#pragma once

#include "telluride/domain/host_port.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace telluride {

/// The broker names (docs/wire-format.md, Routes), each overridable under the config file's
/// `routes` key.
struct route_names {
  std::string exchange;          ///< sensor_events: readings, control, outputs, dead letters
  std::string events_exchange;   ///< broadway_events: throughput and pipeline events
  std::string readings_routing_key;
  std::string readings_queue;
  std::string control_routing_key;
  std::string control_queue;
  std::string aggregates_routing_key;
  std::string aggregates_queue;
  std::string metrics_routing_key;
  std::string metrics_queue;
  std::string alerts_routing_key;
  std::string alerts_queue;
  std::string throughput_routing_key;
  std::string throughput_queue;
  std::string events_routing_key;
  std::string events_queue;
  std::string dead_letter_routing_key;  ///< also the input queues' x-dead-letter-routing-key
  std::string dead_letter_queue;
  /// sensor_shards: the consistent-hash exchange of readings when `shards` > 1 (its queues are
  /// `readings_queue.<shard>`)
  std::string shards_exchange;

  bool operator==(const route_names&) const = default;
};

/// Where the daemon keeps its sensor state (the config key `state`).
enum class state_mode {
  durable,  ///< checkpointed to the stream `state_stream` (CONTRACT §7)
  memory,   ///< in the process only
};

struct config {
  /// Every field at the default given by `config_options()`.
  config();

  // Reconfigurable at runtime (docs/wire-format.md, Reconfiguration).
  std::size_t producer_concurrency = 0;
  std::size_t processor_concurrency = 0;
  std::size_t sensor_batcher_one_concurrency = 0;
  std::size_t sensor_batcher_two_concurrency = 0;
  std::size_t sensor_batcher_one_batch_size = 0;
  std::size_t sensor_batcher_two_batch_size = 0;
  std::chrono::milliseconds batch_timeout{0};
  std::uint64_t rate_limit_allowed = 0;  ///< messages per rate_limit_interval; 0 = unlimited
  std::chrono::milliseconds rate_limit_interval{0};
  std::uint16_t prefetch_count = 0;

  // Read at start-up only (README.md, Configuration reference).
  std::string amqp_url;
  host_port http_listen;
  std::string http_token;  ///< empty: POST /api/config is refused
  std::chrono::milliseconds aggregate_interval{0};
  std::chrono::milliseconds metrics_interval{0};
  std::uint64_t alert_after = 0;
  std::map<std::string, double, std::less<>> alert_thresholds;  ///< has "default"
  std::uint64_t max_sensors = 0;  ///< sensors tracked at most; 0 = sized from memory at start-up
  route_names routes;

  // Durable state and sharding (docs/wire-format.md, Shards and the state stream); read at
  // start-up only.
  std::string node_name;  ///< empty: `<hostname>-<pid>`, filled in by the daemon at start-up
  std::uint32_t shards = 0;  ///< readings queues; 1: `readings_queue` itself
  state_mode state = state_mode::durable;
  std::string state_stream;
  std::chrono::milliseconds checkpoint_interval{0};

  bool operator==(const config&) const = default;
};

} // namespace telluride
