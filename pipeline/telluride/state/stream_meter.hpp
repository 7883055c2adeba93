// stream_meter.hpp — how much other writers grew the state stream, as counted by a reader that
// follows it (other daemons' records; this daemon's own are counted by its writer as the broker
// confirms them, shard_chain::stream_grew), so that a shard's owner writes a snapshot before
// the stream's retention could reach its previous one, and not before the stream grew enough
// to make one worth it (shard_chain.hpp, docs/checkpoints.md, Writing a shard and Retention).
// Counting its own records here too counted them twice, late: a snapshot read back after its
// confirm counted as growth since it.
//
// Each record counts its bytes plus `record_overhead`, a bound on what the broker stores
// around a message's body (its properties and headers as a stream entry, and its share of a
// chunk header). Thread-safe: the follower adds, the checkpoint writer reads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace telluride {

class stream_meter {
public:
  /// Bytes a stream entry takes besides its body, at most: measured 762 for a record alone in
  /// its chunk, with a 19-byte exchange name (docs/checkpoints.md, Retention).
  static constexpr std::uint64_t record_overhead = 1024;

  /// What a record of `body_bytes` counts as: its body and the overhead. The meter and a
  /// writer's own count (shard_chain::stream_grew) count alike.
  static constexpr std::uint64_t counted_bytes(std::size_t body_bytes) noexcept { return body_bytes + record_overhead; }

  /// A record of `body_bytes` was read from the stream.
  void add_record(std::size_t body_bytes) noexcept {
    bytes_.fetch_add(counted_bytes(body_bytes), std::memory_order_relaxed);
  }
  /// The stream's growth since this meter started: monotonic.
  std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> bytes_{0};
};

} // namespace telluride
