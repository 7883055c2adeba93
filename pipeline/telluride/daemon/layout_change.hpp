// layout_change.hpp — a change of the number of shards between restarts, in durable mode
// (CONTRACT §7: it loses and double-counts nothing; docs/checkpoints.md, Changing the number of
// shards).
//
// The layout in use is named by the layout record in the queue `<state_stream>.index.layout`
// (x-max-length 1; layout_record.hpp). Without one, the layout of the state stream's last record, which the next
// daemon records (an empty stream: a fresh deployment, nothing to record yet). A daemon whose `shards`
// differs, before it declares its own topology or consumes anything, goes from the old layout
// A to its own B; it records or changes the layout under a lock (the exclusive queue
// `<state_stream>.index.layout.lock`: the others wait, then find it done):
//   1. it waits until no consumer is left on A's queues (the daemons of A stopped);
//   2. it declares B's topology: new readings go to B's queues from then on (around the switch a
//      reading may be routed to both: its message_id is recognised below);
//   3. it consumes A's queues as A's shards (claimed and restored from the stream as a daemon
//      of A would) until they are empty, every reading applied, checkpointed and acknowledged;
//   4. the next inheritance (inherited_state.hpp): every sensor of A's final states and of what
//      A had inherited, and the message ids A's shards applied last;
//   5. a layout record of B in the state stream: B's shards start afresh there (an earlier life
//      of layout B is forgotten); then the inheritance in the layout queue.
// B's shards take each sensor from the inheritance the first time they meet it. Going from
// A > 1 to B > 1 passes through 1 (A's readings and B's share queue names, so A's queues must
// be empty before B's routing starts): A → 1 → B, each a change as above. A termination signal
// stops the change at the next step; the next start goes on from where it stopped.
//
// Memory mode has no stream and no layout record: a daemon with K > 1 consumes what waits in the
// readings queue (a run with 1 shard left it), and one with 1 what waits in the shard queues,
// the same way (steps 2 to 4, in this process), before its own queues; its slots inherit what
// that made. K_a > 1 to K_b > 1 is not told apart in memory mode: the shared queues are consumed
// by the new layout directly.
#pragma once

#include "telluride/daemon/outputs.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"
#include "telluride/state/inherited_state.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/telemetry.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace caf {
class actor_system;
}

namespace telluride {

class part_health;
class throughput;

struct layout_change_parts {
  config cfg;  ///< the daemon's: the layout it runs
  std::chrono::milliseconds connect_timeout{0};
  caf::actor_system* system = nullptr;  ///< runs the old layout's readings pipeline
  std::shared_ptr<throughput> totals;
  std::shared_ptr<causeway::telemetry_sink> stages;
  std::shared_ptr<part_health> health;
  std::function<bool()> stop_requested;  ///< a termination signal came
};

struct layout_settled {
  /// What this daemon's shards inherit (null: nothing; the layout never changed).
  std::shared_ptr<const inherited_state> inherited;
  bool stopped = false;  ///< a termination signal stopped the change: the daemon exits
};

/// Finds the layout in use and, when it is not the daemon's, changes it (above). One-line
/// errors: the broker, a layout record that does not decode, a restore or a checkpoint of the
/// old layout that failed.
expected<layout_settled> settle_layout(const layout_change_parts& parts);

} // namespace telluride
