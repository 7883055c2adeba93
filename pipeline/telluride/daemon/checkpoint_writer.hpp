// checkpoint_writer.hpp — durable mode's checkpoint rounds, on a thread of their own.
//
// Every `interval` (checkpoint_interval_ms), and sooner once the ack gate holds `early_at()`
// acknowledgements that no round sealed yet, or any while the gate is hurried (a readings
// channel's prefetch window is full), it runs a round (checkpoint_round.hpp): the
// changed state goes to the stream, and once the broker confirmed it the held
// acknowledgements go to the broker. `early_at` is about half of what the broker lets the
// daemon hold unacknowledged (producers × prefetch_count), so that rounds come before the
// broker's prefetch window fills with readings that wait for a checkpoint (docs/checkpoints.md,
// Sizing). The batch processors never wait for it: they apply readings under the shard
// locks, the writer only takes images under them.
//
// A failed or timed-out round releases nothing; the next one, an interval later, retries
// (writing snapshots). While rounds fail, `part_health` marks the part "checkpoints" down with
// the reason (so /readyz answers 503), and one log line says so; one more says when a round
// succeeds again. `flush` runs a round now and waits for it: the daemon calls it after a
// drain, before a readings channel closes, so a clean stop or a reconfiguration leaves nothing
// held. Thread-safe.
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
#include <thread>
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

  /// Starts the writer's thread.
  void start();
  /// Runs a round that starts after this call and waits for it; true when it succeeded. False
  /// at once when the writer does not run. Not from the writer's own thread.
  bool flush();
  /// A last round (flush), then the thread ends. Idempotent.
  void stop();

  /// Rounds from the next one on also write `chain`'s shard (taken over with K > 1 shards).
  void add_chain(shard_chain chain);
  /// Rounds from the next one on leave shard `shard` out; its chain, to write its release.
  std::optional<shard_chain> remove_chain(std::uint32_t shard);
  /// The next record of `shard`'s chain is a snapshot, due even if the shard changes nothing:
  /// records it wrote are missing from the stream (stream_follower.hpp). No-op when this
  /// writer does not write the shard (any more).
  void snapshot_next(shard_identity shard);

  checkpoint_stats stats() const;

private:
  void run();
  void note(const round_outcome& outcome, std::chrono::microseconds took);
  std::size_t early_threshold() const;
  /// The gate holds `early_at` acknowledgements no round sealed yet, or any while it is hurried.
  bool is_early(std::size_t early_at) const;

  checkpoint_writer_options options_;
  std::shared_ptr<causeway::ack_gate> gate_;
  std::shared_ptr<sensor_tracker> tracker_;
  std::mutex chains_mutex_;          // held by a round, and to add or remove a chain
  std::vector<shard_chain> chains_;
  std::shared_ptr<record_sink> sink_;
  std::shared_ptr<part_health> health_;

  // Shared with the gate's wake-up, which may run after this writer is gone.
  struct wake_signal {
    std::mutex mutex;
    std::condition_variable wake;  // the writer: a flush is wanted, enough acks held, or stop
  };
  std::shared_ptr<wake_signal> signal_ = std::make_shared<wake_signal>();
  std::mutex& mutex_ = signal_->mutex;
  std::condition_variable& wake_ = signal_->wake;
  std::condition_variable finished_;  // flushers: a round ended
  std::uint64_t flushes_wanted_ = 0;  // tickets handed out
  std::uint64_t flushes_done_ = 0;    // tickets the latest round covered
  bool last_ok_ = true;
  bool is_running_ = false;
  bool is_stopping_ = false;
  checkpoint_stats stats_;
  std::uint64_t failures_in_a_row_ = 0;
  std::mutex join_mutex_;  // stop() joins once
  std::thread thread_;
};

} // namespace telluride
