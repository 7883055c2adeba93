#include "telluride/daemon/readings_intake.hpp"

#include "telluride/daemon/pipeline_shape.hpp"

#include <algorithm>
#include <string>

namespace telluride {

namespace {

/// The producer of a generation that owns no shard: it takes nothing and drains at once.
class idle_producer final : public causeway::producer {
public:
  void start(causeway::producer_sink sink) override { sink_ = std::move(sink); }
  void prepare_for_draining() override { sink_.drained(); }
  void fail_in_flight(std::string_view) override {}

private:
  causeway::producer_sink sink_;
};

} // namespace

expected<std::shared_ptr<causeway::amqp::queue_source>> readings_intake::open_shard(std::uint32_t shard,
                                                                                   std::uint16_t prefetch) const {
  auto base = current();
  auto options = base->options();
  options.queue = options.queue + "." + std::to_string(shard);
  options.prefetch_count = prefetch;
  options.acknowledge_through = tag_with_shard(shard, options.acknowledge_through);
  options.declare.reset();  // declared with the topology (single active consumer)
  if (locks_)
    options.before_consume = [locks = locks_, shard](causeway::amqp::channel& ch) {
      return locks->before_consume(shard, ch);
    };
  auto opened = causeway::amqp::queue_source::open(options, base->connection());
  if (!opened)
    return error{"cannot consume " + options.queue + ": " + opened.err().message};
  std::lock_guard guard{mutex_};
  opened_.push_back(*opened);
  return *opened;
}

expected<void> readings_intake::set_shards(const std::vector<std::uint32_t>& owned) {
  const auto prefetch = current()->options().prefetch_count;
  std::vector<shard_source> next;
  for (std::uint32_t shard : owned) {
    std::shared_ptr<causeway::amqp::queue_source> source;
    {
      std::lock_guard guard{mutex_};
      auto it = std::find_if(owned_.begin(), owned_.end(), [&](const shard_source& s) { return s.shard == shard; });
      if (it != owned_.end())
        source = it->source;
    }
    if (!source) {
      auto opened = open_shard(shard, prefetch);
      if (!opened)
        return opened.err();
      source = *opened;
    }
    next.push_back(shard_source{shard, std::move(source)});
  }
  std::lock_guard guard{mutex_};
  owned_ = std::move(next);
  return {};
}

std::vector<std::uint32_t> readings_intake::shards() const {
  std::lock_guard guard{mutex_};
  std::vector<std::uint32_t> out;
  for (const auto& s : owned_)
    out.push_back(s.shard);
  return out;
}

expected<void> readings_intake::prepare_for(const config& next) {
  auto source = current();
  if (source->options().prefetch_count == next.prefetch_count)
    return {};
  auto options = source->options();
  options.prefetch_count = next.prefetch_count;
  auto opened = causeway::amqp::queue_source::open(options, source->connection());
  if (!opened)
    return error{"cannot apply prefetch_count: " + opened.err().message};
  std::vector<shard_source> reopened;
  {
    std::lock_guard guard{mutex_};
    current_ = *opened;
    reopened = owned_;
  }
  for (auto& s : reopened) {
    auto shard = open_shard(s.shard, next.prefetch_count);
    if (!shard)
      return error{"cannot apply prefetch_count: " + shard.err().message};
    s.source = *shard;
  }
  std::lock_guard guard{mutex_};
  owned_ = std::move(reopened);
  return {};
}

causeway::amqp::queue_source_stats readings_intake::stats() const {
  std::vector<std::shared_ptr<causeway::amqp::queue_source>> sources;
  {
    std::lock_guard guard{mutex_};
    if (!is_sharded())
      return current_->stats();
    sources = opened_;
  }
  causeway::amqp::queue_source_stats sum;
  for (const auto& source : sources)
    sum += source->stats();
  return sum;
}

std::size_t readings_intake::producers(const config& cfg) const {
  if (!is_sharded())
    return cfg.producer_concurrency;
  std::lock_guard guard{mutex_};
  return std::max<std::size_t>(1, owned_.size());
}

causeway::producer_factory readings_intake::factory() {
  return [this](std::size_t index) -> std::unique_ptr<causeway::producer> {
    if (!is_sharded())
      return current()->factory()(index);
    std::shared_ptr<causeway::amqp::queue_source> source;
    {
      std::lock_guard guard{mutex_};
      if (index < owned_.size())
        source = owned_[index].source;
    }
    if (!source)
      return std::make_unique<idle_producer>();
    return source->factory()(index);
  };
}

causeway::pipeline_options readings_pipeline_options(const config& cfg, const readings_intake& intake) {
  auto options = make_pipeline_options(cfg);
  options.producer.concurrency = intake.producers(cfg);
  return options;
}

causeway::pipeline_spec readings_pipeline_spec(const config& cfg, readings_intake& intake,
                                               std::shared_ptr<causeway::handler> handler,
                                               std::shared_ptr<causeway::telemetry_sink> telemetry) {
  causeway::pipeline_spec spec;
  spec.options = readings_pipeline_options(cfg, intake);
  spec.handler = std::move(handler);
  spec.make_producer = intake.factory();
  spec.telemetry = std::move(telemetry);
  return spec;
}

} // namespace telluride
