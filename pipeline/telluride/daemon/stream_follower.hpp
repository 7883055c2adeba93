// stream_follower.hpp — durable mode's reader of the state stream after the restore: it reads
// every record from where the daemon's own claims are (so it sees every later claim), indexes
// the snapshots this daemon wrote that hold their shard's fence (snapshot_indexer.hpp,
// snapshot_index_store.hpp), tells when a chain this daemon wrote is broken (records the
// broker confirmed are missing before a delta: one warning, and `on_break`), and measures how
// much other writers grow the stream (stream_meter.hpp; this daemon's writer counts its own),
// for the snapshot rules of shard_chain.hpp.
//
// On a thread of its own, with its own connection (telluride-state-follower). A lost
// connection is reopened after a second at the offset after the last record read; an entry
// that cannot be written is one log line (once until one is written again): the next restore
// then starts at an older snapshot, or at the first record. `stop` reads on until the stream
// is quiet for `settle` (at most `catch_up`), so that the snapshot of a last round is indexed
// too, then ends. Thread-safe.
#pragma once

#include "telluride/daemon/snapshot_index_store.hpp"
#include "telluride/daemon/state_stream.hpp"
#include "telluride/state/snapshot_indexer.hpp"
#include "telluride/state/stream_meter.hpp"

#include <causeway/amqp/connection.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace telluride {

struct stream_follower_options {
  std::string owner;  ///< this daemon's node name: whose snapshots are indexed
  std::chrono::milliseconds settle{200};
  std::chrono::milliseconds catch_up{3'000};
  std::chrono::milliseconds reopen_after{1'000};
  /// A chain of this daemon's is broken (snapshot_indexer.hpp): its shard's next checkpoint
  /// should be a snapshot. Called on the follower's thread.
  std::function<void(const chain_break&)> on_break;
};

/// What the follower did (for /metrics and tests).
struct follower_stats {
  std::uint64_t records = 0;  ///< read
  std::uint64_t indexed = 0;  ///< entries written
  std::int64_t last_offset = -1;
  std::int64_t last_indexed_offset = -1;
};

class stream_follower {
public:
  stream_follower(stream_follower_options options, record_source_opener open,
                  std::shared_ptr<snapshot_index_store> store, std::shared_ptr<stream_meter> meter);
  ~stream_follower();
  stream_follower(const stream_follower&) = delete;
  stream_follower& operator=(const stream_follower&) = delete;

  /// Starts reading at offset `from` (the earliest of the daemon's claims).
  void start(std::int64_t from);
  /// Reads on until the stream is quiet (see above), then ends. Idempotent.
  void stop();
  follower_stats stats() const;

private:
  void run(std::int64_t from);

  stream_follower_options options_;
  record_source_opener open_;
  std::shared_ptr<snapshot_index_store> store_;
  std::shared_ptr<stream_meter> meter_;
  snapshot_indexer indexer_;  // the follower's thread only
  mutable std::mutex mutex_;
  follower_stats stats_;
  std::atomic<bool> is_stopping_{false};
  std::mutex join_mutex_;
  std::thread thread_;
};

} // namespace telluride
