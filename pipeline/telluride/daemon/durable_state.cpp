#include "telluride/daemon/durable_state.hpp"

#include "telluride/daemon/state_restore.hpp"

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
  sink_ = std::make_shared<stream_record_sink>(std::move(*publisher), state_exchange(cfg_));

  for (std::uint32_t shard = 0; shard < tracker.shard_count(); ++shard) {
    const auto started = std::chrono::steady_clock::now();
    const shard_identity identity{static_cast<std::uint32_t>(tracker.shard_count()), shard};
    auto reading = base;
    reading.name = "telluride-restore";
    auto source = stream_record_source::open(reading, cfg_.state_stream);
    if (!source)
      return source.err();
    shard_claim claim{identity, cfg_.node_name, rules, tracker.id_capacity_per_shard()};
    auto restored = restore_from_stream(**source, *sink_, claim, restore_settings{});
    source->reset();  // closes its connection
    if (!restored)
      return error{"cannot restore from the state stream " + cfg_.state_stream + ": " + restored.err().message};
    const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const std::uint64_t sensors = restored->state.table().size();
    spdlog::info("shard {} restored from {} in {} ms: {} sensors, {} alerts raised, {} records read (last sequence "
                 "{}), claimed with epoch {}",
                 shard, cfg_.state_stream, took.count(), sensors, restored->state.alerts_raised(),
                 claim.records_read(), restored->sequence, claim.epoch());
    chains_.emplace_back(identity, cfg_.node_name, claim.epoch(), restored->sequence);
    tracker.restore_shard(shard, std::move(restored->state));
    std::lock_guard lock(mutex_);
    restored_.sensors += sensors;
    restored_.records += claim.records_read();
    restored_.epoch = claim.epoch();
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
  std::lock_guard lock(mutex_);
  writer_ = std::move(writer);
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
  {
    std::lock_guard lock(mutex_);
    writer = writer_;
  }
  if (writer)
    writer->stop();
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
