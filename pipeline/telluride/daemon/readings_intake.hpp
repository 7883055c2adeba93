// readings_intake.hpp — the readings side of the daemon: the queue sources the next pipeline
// generation consumes from, and whether a generation consumes now.
//
// With shards 1 there is one source (the readings queue, producer_concurrency channels). With
// K > 1 there is one source per shard this daemon owns (`set_shards`), one channel each, on
// one connection: producer i consumes the i-th owned shard queue, and its messages carry an
// acknowledger tagged with the shard (shard_tag.hpp). A generation with no shard owned has one
// producer that takes nothing. The pipeline picks the sources up when it restarts.
//
// A reconfiguration may change prefetch_count, which is fixed per AMQP channel: before the
// pipeline restarts, `prepare_for` opens sources with the new prefetch on the same connection
// and switches to them; the restarted producers are created from the current sources.
// `is_consuming` is false from the start of a drain (reconfiguration or shutdown) until the
// next generation runs. Thread-safe.
#pragma once

#include "telluride/daemon/readings_lock.hpp"
#include "telluride/daemon/shard_tag.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/amqp/queue_source.hpp>
#include <causeway/pipeline.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace telluride {

class readings_intake {
public:
  /// Shards 1: consumes `first`.
  explicit readings_intake(std::shared_ptr<causeway::amqp::queue_source> first)
    : current_(std::move(first)) {}
  /// K > 1: consumes the shard queues set_shards names, on `first`'s connection, with its
  /// options (the queue name changed to the shard's, the acknowledger tagged); `first` itself
  /// (the readings queue) is not consumed. A shard's channel consumes only while `locks`
  /// holds its lock (readings_lock.hpp).
  readings_intake(std::shared_ptr<causeway::amqp::queue_source> first, std::uint32_t shards,
                  std::shared_ptr<shard_locks> locks)
    : current_(std::move(first)), layout_(shards), locks_(std::move(locks)) {}

  std::shared_ptr<causeway::amqp::queue_source> current() const {
    std::lock_guard guard{mutex_};
    return current_;
  }
  /// K > 1: the next generation consumes exactly the queues of `owned` (ascending). Opens the
  /// sources it lacks; an error (naming the queue) changes nothing.
  expected<void> set_shards(const std::vector<std::uint32_t>& owned);
  /// The shards the next generation consumes (K > 1).
  std::vector<std::uint32_t> shards() const;
  bool is_sharded() const noexcept { return layout_ > 1; }

  /// Makes the next generation consume as `next` asks (a new channel prefetch); on an error
  /// (naming the key) nothing changed.
  expected<void> prepare_for(const config& next);
  /// Producer stages the next generation needs: producer_concurrency, or with K > 1 one per
  /// owned shard (at least one).
  std::size_t producers(const config& cfg) const;
  /// Counters over every source the intake consumed from since start (shard sources given up
  /// included, so they never go backwards).
  causeway::amqp::queue_source_stats stats() const;
  /// A producer factory that always asks the current sources.
  causeway::producer_factory factory();

  bool is_consuming() const noexcept { return consuming_.load(); }
  void set_consuming(bool consuming) noexcept { consuming_.store(consuming); }

private:
  struct shard_source {
    std::uint32_t shard = 0;
    std::shared_ptr<causeway::amqp::queue_source> source;
  };
  expected<std::shared_ptr<causeway::amqp::queue_source>> open_shard(std::uint32_t shard,
                                                                     std::uint16_t prefetch) const;

  mutable std::mutex mutex_;
  std::shared_ptr<causeway::amqp::queue_source> current_;
  std::uint32_t layout_ = 1;
  std::shared_ptr<shard_locks> locks_;  // K > 1
  std::vector<shard_source> owned_;  // K > 1, ascending by shard
  mutable std::vector<std::shared_ptr<causeway::amqp::queue_source>> opened_;  // K > 1: every shard source, for stats
  std::atomic<bool> consuming_{false};
};

/// The readings pipeline's options for `cfg` (pipeline_shape.hpp) with as many producers as
/// `intake` needs: what a start, a restart and a reconfiguration all run.
causeway::pipeline_options readings_pipeline_options(const config& cfg, const readings_intake& intake);

/// The readings pipeline consuming what `intake` gives, handled by `handler`: the options of
/// `cfg` (pipeline_shape.hpp) with as many producers as the intake needs.
causeway::pipeline_spec readings_pipeline_spec(const config& cfg, readings_intake& intake,
                                               std::shared_ptr<causeway::handler> handler,
                                               std::shared_ptr<causeway::telemetry_sink> telemetry);

} // namespace telluride
