#include "telluride/daemon/durable_state.hpp"

#include "telluride/daemon/indexed_restore.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace telluride {

namespace amqp = causeway::amqp;

durable_state::durable_state(const config& cfg, std::shared_ptr<part_health> health)
  : cfg_(cfg), health_(std::move(health)) {}

durable_state::~durable_state() {
  stop();
}

void durable_state::hook(amqp::queue_source_options& options) {
  options.acknowledge_through = [gate = gate_](std::shared_ptr<causeway::acknowledger> inner) {
    return gate->wrap(std::move(inner));
  };
  options.release_held = [self = weak_from_this()] {
    if (auto durable = self.lock())
      durable->release_held();
  };
}

expected<void> durable_state::restore(const amqp::connection_options& base, sensor_tracker& tracker,
                                      const alert_rules& rules) {
  amqp::publisher_options pub;
  pub.connection = base;
  pub.connection.name = "telluride-checkpoints";
  auto publisher = amqp::publisher::open(pub);
  if (!publisher)
    return error{"cannot open the checkpoint publishing connection: " + publisher.err().message};
  sink_ = std::make_shared<stream_record_sink>(*publisher, state_exchange(cfg_));
  index_ = std::make_shared<snapshot_index_store>(std::move(*publisher), cfg_.state_stream);
  auto opener = [stream = cfg_.state_stream](amqp::connection_options connection) -> record_source_opener {
    return [stream, connection](std::optional<std::int64_t> from) -> expected<std::unique_ptr<record_source>> {
      auto source = stream_record_source::open(connection, stream, from);
      if (!source)
        return source.err();
      return std::unique_ptr<record_source>(std::move(*source));
    };
  };
  auto reading = base;
  reading.name = "telluride-restore";
  auto following = base;
  following.name = "telluride-state-follower";
  follow_ = opener(following);

  for (std::uint32_t shard = 0; shard < tracker.shard_count(); ++shard) {
    const auto started = std::chrono::steady_clock::now();
    const shard_identity identity{static_cast<std::uint32_t>(tracker.shard_count()), shard};
    const shard_restore_request request{identity, cfg_.node_name, rules, tracker.id_capacity_per_shard()};
    auto restored =
      restore_indexed(plan_restore_start(identity, index_->read(identity)), opener(reading), *sink_, request, {});
    if (!restored)
      return error{"cannot restore from the state stream " + cfg_.state_stream + ": " + restored.err().message};
    const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const std::uint64_t sensors = restored->restored.state.table().size();
    spdlog::info("shard {} restored from {} in {} ms: {} sensors, {} alerts raised, {} records read {} (last "
                 "sequence {}), claimed with epoch {}",
                 shard, cfg_.state_stream, took.count(), sensors, restored->restored.state.alerts_raised(),
                 restored->records_read,
                 restored->started_at ? "from the indexed snapshot at offset " + std::to_string(*restored->started_at)
                                      : std::string("from the first record"),
                 restored->restored.sequence, restored->epoch);
    chains_.emplace_back(identity, cfg_.node_name, restored->epoch, restored->restored.sequence);
    chains_.back().measure_stream_with(meter_);
    if (const auto at = restored->restored.claim_offset; at >= 0 && (follow_from_ < 0 || at < follow_from_))
      follow_from_ = at;
    tracker.restore_shard(shard, std::move(restored->restored.state));
    std::lock_guard lock(mutex_);
    restored_.sensors += sensors;
    restored_.records += restored->records_read;
    restored_.epoch = restored->epoch;
    restored_.took += took;
  }
  return {};
}

void durable_state::start_writing(std::shared_ptr<sensor_tracker> tracker, std::shared_ptr<const config_store> config) {
  checkpoint_writer_options options;
  options.interval = cfg_.checkpoint_interval;
  options.early_at = [config] {
    const auto cfg = config->current().first;
    return cfg.producer_concurrency * cfg.prefetch_count / 2;
  };
  auto writer = std::make_shared<checkpoint_writer>(std::move(options), gate_, std::move(tracker), std::move(chains_),
                                                    sink_, health_);
  chains_.clear();
  writer->start();
  std::unique_ptr<stream_follower> follower;
  if (follow_from_ >= 0) {
    follower = std::make_unique<stream_follower>(stream_follower_options{cfg_.node_name}, follow_, index_, meter_);
    follower->start(follow_from_);
  } else {
    spdlog::warn("the state stream gave no offsets: snapshots are not indexed (restores read the whole stream)");
  }
  std::lock_guard lock(mutex_);
  writer_ = std::move(writer);
  follower_ = std::move(follower);
}

void durable_state::release_held() {
  std::shared_ptr<checkpoint_writer> writer;
  {
    std::lock_guard lock(mutex_);
    writer = writer_;
  }
  if (writer && !writer->flush())
    spdlog::warn("the checkpoint before closing a readings channel failed: the readings it held are delivered again "
                 "(and recognised by their message_id)");
}

void durable_state::stop() {
  std::shared_ptr<checkpoint_writer> writer;
  stream_follower* follower = nullptr;
  {
    std::lock_guard lock(mutex_);
    writer = writer_;
    follower = follower_.get();  // lives as long as this object
  }
  if (writer)
    writer->stop();
  if (follower)
    follower->stop();  // after the writer: it indexes the last round's snapshots
}

durable_figures durable_state::figures() const {
  durable_figures f;
  std::lock_guard lock(mutex_);
  if (writer_)
    f.checkpoints = writer_->stats();
  f.restore = restored_;
  f.held = gate_->held();
  return f;
}

} // namespace telluride
