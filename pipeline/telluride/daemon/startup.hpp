// startup.hpp — the daemon's start-up steps that can fail with a one-line error.
#pragma once

#include "telluride/daemon/daemon.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/amqp/queue_source.hpp>
#include <causeway/amqp/publisher.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace telluride {

/// The config file (or the defaults when the default file is absent) with the flags and
/// TELLURIDE_AMQP_URL applied, and an empty node_name replaced by `<hostname>-<pid>`; errors
/// name the key or the file.
expected<config> load_daemon_config(const daemon_options& options);

/// Message ids remembered for "counted once": several prefetch windows of every producer.
std::size_t message_id_capacity(const config& cfg);

/// The sensor tracker of a daemon with `cfg` (its layout, its state mode). With shards 1,
/// memory mode spreads sensors over 16 locks and durable mode keeps one shard_state,
/// checkpointed as a whole; with K > 1 the tracker has one slot per shard of the layout,
/// routed by the queue a reading came from (shard_tag.hpp), each remembering its share of the
/// message ids (at least two prefetch windows: a shard's redeliveries come from its one channel).
std::shared_ptr<sensor_tracker> make_tracker(const config& cfg, const alert_rules& rules, std::uint64_t max_sensors);

/// Sensors tracked at most: max_sensors, or when it is 0, max_sensors_for_memory of this
/// machine's physical memory (sensor_quota.hpp).
std::uint64_t max_sensors_bound(const config& cfg);

/// Keeps buffers up to 16 MiB in the allocator's heaps between uses. By default glibc maps
/// allocations of 128 KiB and more afresh, and gives a heap's free top above 256 KiB back to
/// the kernel, so a large buffer freed and allocated again faults its pages in again each time:
/// the state stream follower assembles each record's body in a buffer of the record's size and
/// one frame more (a snapshot is ~89 bytes per sensor), hands it on and starts the next, and
/// those faults cost more than the reads (0.5 of its 0.7 CPU-s per million readings, paced at
/// 5,000/s over 1,000 sensors; perf puts 83 % of the daemon's page faults in
/// delivery_assembler's growth). Once, before any thread starts.
void keep_large_buffers_mapped();

class durable_state;
class readings_lock;

/// The connection settings every connection of the daemon starts from: the URL, and a
/// connect timeout within `timeout` (at most 5 s).
causeway::amqp::connection_options base_connection(const config& cfg, std::chrono::milliseconds timeout);

/// While it lives, only errors are logged. Start-up steps that report their outcome as one line
/// hold it: the framework's lines about their short-lived connections (open; lost and
/// reconnecting when the broker closes one) would only repeat it. Nothing else runs yet then.
class quiet_logs {
public:
  quiet_logs();
  ~quiet_logs();
  quiet_logs(const quiet_logs&) = delete;
  quiet_logs& operator=(const quiet_logs&) = delete;

private:
  int saved_;
};

/// Runs `attempt` until it succeeds, retrying (with backoff, silently) while the broker is
/// unreachable and `timeout` has not passed; any other error at once. The error names the
/// broker (password masked).
expected<void> retry_unreachable(const config& cfg, std::chrono::milliseconds timeout,
                                 const std::function<expected<void>()>& attempt);

struct broker_connections {
  std::shared_ptr<causeway::amqp::publisher> publisher;
  std::shared_ptr<causeway::amqp::queue_source> readings;
  /// The control queue (shards 1), or this daemon's queue of forwarded control messages (K > 1).
  std::shared_ptr<causeway::amqp::queue_source> control;
  /// K > 1: the control queue, taken to be forwarded while this daemon holds the lock.
  std::shared_ptr<causeway::amqp::queue_source> forwarded_control;
};

/// What connect_broker does besides opening the publisher and the readings.
struct broker_wants {
  /// False: the topology is left as it is (a change of the number of shards declares it step by
  /// step: layout_change.hpp).
  bool declare = true;
  /// False: no control consumer at all (a layout change's drain of the old queues, which applies
  /// no reconfiguration and must not hold the control queue's forwarding lock meanwhile).
  bool control = true;
  /// The readings channels hold their acknowledgements in its ack gate (durable_state::hook).
  durable_state* durable = nullptr;
  /// Shards 1: every readings channel takes it before it consumes (readings_lock.hpp).
  std::shared_ptr<readings_lock> lock;
};

/// Declares the topology (broker_topology.hpp) and opens the connections, retrying an
/// unreachable broker with backoff until `timeout`; a refused login, a conflicting
/// declaration or a missing plugin fails at once.
expected<broker_connections> connect_broker(const config& cfg, std::chrono::milliseconds timeout,
                                            broker_wants wants = {});

} // namespace telluride
