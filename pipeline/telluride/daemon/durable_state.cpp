#include "telluride/daemon/durable_state.hpp"

#include "telluride/daemon/indexed_restore.hpp"
#include "telluride/daemon/reading_handler.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace telluride {

namespace amqp = causeway::amqp;

namespace {

/// How often the stream follower reads its connection and hands records on. Nothing waits on
/// it (it indexes snapshots for the next restore and tells of broken chains), and each read
/// wakes three threads (its connection's, its own, and the connection's again for the credit):
/// at 100 ms the follower took ~0.65 CPU-s per million readings paced at 5,000/s, ~0.3 at 250 ms.
constexpr std::chrono::milliseconds follower_pace{250};

} // namespace

durable_state::durable_state(const config& cfg, std::shared_ptr<part_health> health)
  : cfg_(cfg), health_(std::move(health)) {}

durable_state::~durable_state() {
  stop();
}

std::uint64_t count_reapplied_once(throughput& totals, std::uint64_t reads_at_loss, std::uint64_t restored_reads,
                                   std::uint64_t failed_held, std::string_view what) {
  const std::uint64_t again = reads_at_loss > restored_reads ? reads_at_loss - restored_reads : 0;
  totals.take_back(again, failed_held);
  if (again + failed_held > 0)
    spdlog::info("{}: {} readings applied and {} failed after the last confirmed checkpoint are delivered again; "
                 "the throughput totals count them once",
                 what, again, failed_held);
  return again;
}

std::size_t early_round_mark(std::size_t window, std::chrono::steady_clock::duration last_full,
                             std::chrono::steady_clock::duration now) noexcept {
  const bool is_backlogged = last_full.count() != 0 && now - last_full < backlog_span;
  return window / (is_backlogged ? 6 : 3);
}

void durable_state::hook(amqp::queue_source_options& options) {
  options.acknowledge_through = [gate = gate_](std::shared_ptr<causeway::acknowledger> inner) {
    return gate->wrap(std::move(inner));
  };
  // The broker sends nothing more until something is acknowledged: a round now, not at the
  // third-of-the-window mark or the interval, and the next ones at a sixth for a while
  // (docs/checkpoints.md, Sizing).
  options.on_window_full = [gate = gate_, last_full = last_full_] {
    last_full->store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    gate->hurry();
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
  auto unrouted = std::make_shared<unrouted_records>();
  unrouted->topology = state_stream_topology(cfg_);
  watch_unrouted(pub, {state_exchange(cfg_)}, unrouted);
  // A round waits for its confirms: read them as they come rather than at the read pace
  // meant for a stream of deliveries (one wake-up a round fewer).
  pub.connection.read_interval = std::chrono::milliseconds{0};
  auto publisher = amqp::publisher::open(pub);
  if (!publisher)
    return error{"cannot open the checkpoint publishing connection: " + publisher.err().message};
  sink_ = std::make_shared<stream_record_sink>(*publisher, state_exchange(cfg_), std::move(unrouted));
  index_ = std::make_shared<snapshot_index_store>(std::move(*publisher), cfg_.state_stream);
  auto following = base;
  following.name = "telluride-state-follower";
  // Nothing waits on the follower: it reads a few times a second whatever the round rate,
  // instead of waking twice for each record.
  following.read_interval = following.longest_read_interval = follower_pace;
  follow_ = stream_opener(following);

  if (tracker.route() == sensor_tracker::routing::by_layout)
    return {};  // K > 1: the shard coordinator takes shards (take_shard)
  for (std::uint32_t shard = 0; shard < tracker.shard_count(); ++shard) {
    const shard_identity identity{static_cast<std::uint32_t>(tracker.shard_count()), shard};
    auto restored = restore_one(base, tracker, rules, identity, shard);
    if (!restored)
      return restored.err();
    chains_.push_back(std::move(restored->first));
  }
  return {};
}

record_source_opener durable_state::stream_opener(amqp::connection_options connection) const {
  return [stream = cfg_.state_stream, connection](std::optional<std::int64_t> from)
           -> expected<std::unique_ptr<record_source>> {
    auto source = stream_record_source::open(connection, stream, from);
    if (!source)
      return source.err();
    return std::unique_ptr<record_source>(std::move(*source));
  };
}

expected<std::pair<shard_chain, std::chrono::milliseconds>>
durable_state::restore_one(const amqp::connection_options& base, sensor_tracker& tracker, const alert_rules& rules,
                           shard_identity identity, std::size_t slot) {
  const auto started = std::chrono::steady_clock::now();
  auto reading = base;
  reading.name = "telluride-restore";
  const shard_restore_request request{identity, cfg_.node_name, rules, tracker.id_capacity_per_shard()};
  auto restored =
    restore_indexed(plan_restore_start(identity, index_->read(identity)), stream_opener(reading), *sink_, request, {});
  if (!restored)
    return error{"cannot restore from the state stream " + cfg_.state_stream + ": " + restored.err().message};
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  const std::uint64_t sensors = restored->restored.state.table().size();
  spdlog::info("shard {} restored from {} in {} ms: {} sensors, {} alerts raised, {} records read {} (last "
               "sequence {}), claimed with epoch {}",
               identity.shard, cfg_.state_stream, took.count(), sensors, restored->restored.state.alerts_raised(),
               restored->records_read,
               restored->started_at ? "from the indexed snapshot at offset " + std::to_string(*restored->started_at)
                                    : std::string("from the first record"),
               restored->restored.sequence, restored->epoch);
  shard_chain chain{identity, cfg_.node_name, restored->epoch, restored->restored.sequence};
  chain.measure_stream_with(meter_);
  // The number of shards changed and this shard starts its layout: it remembers the ids the old
  // layout applied last, and shard 0 carries the alerts the old layout raised.
  if (restored->restored.starts_layout && tracker.inherited())
    restored->restored.state.start_layout(*tracker.inherited(), identity.shard == 0);
  tracker.restore_shard(slot, std::move(restored->restored.state));
  std::lock_guard lock(mutex_);
  if (const auto at = restored->restored.claim_offset; at >= 0 && (follow_from_ < 0 || at < follow_from_))
    follow_from_ = at;
  restored_.sensors += sensors;
  restored_.records += restored->records_read;
  restored_.epoch = restored->epoch;
  restored_.took += took;
  return std::pair{std::move(chain), took};
}

void durable_state::follow_if_idle() {
  std::lock_guard lock(mutex_);
  if (follower_ || follow_from_ < 0 || !writer_)
    return;
  stream_follower_options options;
  options.owner = cfg_.node_name;
  // Quiet for longer than a record can wait in the socket (the hand-off shares the read's
  // wake-up), with a margin.
  options.settle = follower_pace + std::chrono::milliseconds{200};
  options.on_break = [writer = std::weak_ptr<checkpoint_writer>(writer_), breaks = chain_breaks_](
                       const chain_break& broken) {
    ++*breaks;
    if (auto w = writer.lock())
      w->snapshot_next(broken.shard);
  };
  follower_ = std::make_unique<stream_follower>(std::move(options), follow_, index_, meter_);
  follower_->start(follow_from_);
}

expected<shard_taken> durable_state::take_shard(const amqp::connection_options& base, sensor_tracker& tracker,
                                               const alert_rules& rules, std::uint32_t shard) {
  std::shared_ptr<checkpoint_writer> writer;
  {
    std::lock_guard lock(mutex_);
    writer = writer_;
  }
  if (!writer || !sink_)
    return error{"shard " + std::to_string(shard) + ": the checkpoint writer does not run"};
  auto restored = restore_one(base, tracker, rules, shard_identity{cfg_.shards, shard}, shard);
  if (!restored)
    return restored.err();
  const shard_taken taken{restored->first.epoch(), restored->second};
  writer->add_chain(std::move(restored->first));
  {
    std::lock_guard lock(mutex_);
    if (again_totals_ && shard < reads_at_loss_.size() && reads_at_loss_[shard] > 0)
      count_reapplied_once(*again_totals_, std::exchange(reads_at_loss_[shard], 0), tracker.total_reads_in(shard), 0,
                           "shard " + std::to_string(shard));
  }
  follow_if_idle();  // the first shard taken: from its claim on
  return taken;
}

void durable_state::count_once_again(std::shared_ptr<throughput> totals, std::vector<std::uint64_t> reads_at_loss) {
  std::lock_guard lock(mutex_);
  again_totals_ = std::move(totals);
  reads_at_loss_ = std::move(reads_at_loss);
}

void durable_state::drop_shard(std::uint32_t shard) {
  std::shared_ptr<checkpoint_writer> writer;
  {
    std::lock_guard lock(mutex_);
    writer = writer_;
  }
  if (writer)
    writer->remove_chain(shard);
}

expected<void> durable_state::release_shard(std::uint32_t shard) {
  std::shared_ptr<checkpoint_writer> writer;
  {
    std::lock_guard lock(mutex_);
    writer = writer_;
  }
  if (!writer)
    return error{"shard " + std::to_string(shard) + ": the checkpoint writer does not run"};
  auto chain = writer->remove_chain(shard);
  if (!chain)
    return error{"shard " + std::to_string(shard) + " is not held here"};
  checkpoint_record record;
  record.header = chain->next(record_kind::release, now_ms());
  auto bytes = encode_checkpoint(record);
  if (!bytes)
    return error{"shard " + std::to_string(shard) + ": cannot encode its release: " + bytes.err().message};
  if (auto written = write_record(*sink_, outgoing_record{shard, record_kind::release, std::move(*bytes)},
                                  std::chrono::seconds(10));
      !written)
    return error{"shard " + std::to_string(shard) + ": its release was not written: " + written.err().message};
  return {};
}

void durable_state::start_writing(std::shared_ptr<sensor_tracker> tracker, std::shared_ptr<const config_store> config) {
  checkpoint_writer_options options;
  options.interval = cfg_.checkpoint_interval;
  options.early_at = [config, last_full = last_full_] {
    const std::size_t window =
      config->read([](const telluride::config& cfg) { return std::size_t{cfg.producer_concurrency} * cfg.prefetch_count; });
    return early_round_mark(window, std::chrono::steady_clock::duration{last_full->load(std::memory_order_relaxed)},
                            std::chrono::steady_clock::now().time_since_epoch());
  };
  auto writer = std::make_shared<checkpoint_writer>(std::move(options), gate_, std::move(tracker), std::move(chains_),
                                                    sink_, health_);
  chains_.clear();
  writer->start();
  {
    std::lock_guard lock(mutex_);
    writer_ = std::move(writer);
  }
  // K = 1: from the restore's claim on. K > 1 restores nothing yet: from the first shard taken.
  if (cfg_.shards <= 1 && follow_from_ < 0)
    spdlog::warn("the state stream gave no offsets: snapshots are not indexed (restores read the whole stream)");
  follow_if_idle();
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
  f.chain_breaks = chain_breaks_->load();
  return f;
}

} // namespace telluride
