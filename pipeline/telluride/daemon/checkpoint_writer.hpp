// checkpoint_writer.hpp — durable mode's checkpoint rounds, on the thread of the sink.
//
// Every `interval` (checkpoint_interval_ms), and sooner once the ack gate holds `early_at()`
// acknowledgements that no round sealed yet, or any while the gate is hurried (a readings
// channel's prefetch window is full), it runs a round (checkpoint_round.hpp): the
// changed state goes to the stream, and once the broker confirmed it the held
// acknowledgements go to the broker. `early_at` is a third of what the broker lets the
// daemon hold unacknowledged (producers × prefetch_count), so that rounds come before the
// broker's prefetch window fills with readings that wait for a checkpoint (docs/checkpoints.md,
// Sizing). The batch processors never wait for it: they apply readings under the shard
// locks, the writer only takes images under them.
//
// A round runs where its confirm arrives: on the thread the sink posts to (the checkpoint
// connection's), as steps of work that never wait. The gate's mark posts a step; the round
// is sealed, encoded and published there; the broker's confirm finishes it there and starts
// the next one if that is due already. No thread waits for a confirm, and no thread is woken
// to hand a round over (docs/checkpoints.md, "Where a round runs"). Time is kept there too, by
// the sink's alarm (the connection's loop): it starts a round when the interval ends and fails
// one the broker does not answer within `confirm_timeout`.
//
// A failed or timed-out round releases nothing; the next one, an interval later, retries
// (writing snapshots). While rounds fail, `part_health` marks the part "checkpoints" down with
// the reason (so /readyz answers 503), and one log line says so; one more says when a round
// succeeds again. `flush` runs a round now and waits for it: the daemon calls it after a
// drain, before a readings channel closes, so a clean stop or a reconfiguration leaves nothing
// held. Thread-safe; flush, stop and remove_chain wait, so never call them on the sink's thread.
#pragma once

#include "telluride/daemon/checkpoint_round.hpp"
#include "telluride/daemon/part_health.hpp"

#include <causeway/ack_gate.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace telluride {

/// The name under which failing checkpoints show in part_health and /readyz.
inline constexpr std::string_view checkpoints_part = "checkpoints";

struct checkpoint_writer_options {
  std::chrono::milliseconds interval{100};
  std::chrono::milliseconds confirm_timeout{10'000};
  /// Held acknowledgements that start a round before the interval ends (the gate wakes the
  /// writer when they are reached: ack_gate::wake_at); asked after every round (the config may
  /// have changed). Empty or 0: only the interval.
  std::function<std::size_t()> early_at;
};

/// Counters since the writer started.
struct checkpoint_stats {
  std::uint64_t rounds = 0;         ///< confirmed rounds
  std::uint64_t failed_rounds = 0;
  std::uint64_t snapshots = 0;      ///< confirmed records, by kind
  std::uint64_t deltas = 0;
  std::uint64_t bytes = 0;          ///< of the confirmed records
  std::uint64_t released = 0;       ///< acknowledgements let through
  std::uint64_t round_us = 0;       ///< confirmed rounds' time from seal to release, summed
  bool is_failing = false;          ///< the latest round failed
  std::int64_t last_confirmed_ms = 0;  ///< when the latest round succeeded (epoch ms; 0: never)
};

class checkpoint_writer {
public:
  checkpoint_writer(checkpoint_writer_options options, std::shared_ptr<causeway::ack_gate> gate,
                    std::shared_ptr<sensor_tracker> tracker, std::vector<shard_chain> chains,
                    std::shared_ptr<record_sink> sink, std::shared_ptr<part_health> health);
  /// Stops (see stop).
  ~checkpoint_writer();
  checkpoint_writer(const checkpoint_writer&) = delete;
  checkpoint_writer& operator=(const checkpoint_writer&) = delete;

  /// Starts the rounds.
  void start();
  /// Runs a round that starts after this call and waits for it; true when it succeeded. False
  /// at once when the writer does not run, or when the sink's thread has stopped.
  bool flush();
  /// A last round (flush), then no more. Idempotent.
  void stop();

  /// Rounds from the next one on also write `chain`'s shard (taken over with K > 1 shards).
  void add_chain(shard_chain chain);
  /// Rounds from the next one on leave shard `shard` out; its chain, to write its release.
  /// Waits for a round in flight to end first.
  std::optional<shard_chain> remove_chain(std::uint32_t shard);
  /// The next record of `shard`'s chain is a snapshot, due even if the shard changes nothing:
  /// records it wrote are missing from the stream (stream_follower.hpp). No-op when this
  /// writer does not write the shard (any more).
  void snapshot_next(shard_identity shard);

  checkpoint_stats stats() const;

private:
  class rounds;  // the state the sink's thread and the callers share; outlives this object

  std::shared_ptr<rounds> rounds_;
  std::mutex start_mutex_;  // start and stop; stop quiesces once
  bool is_started_ = false;
};

} // namespace telluride
