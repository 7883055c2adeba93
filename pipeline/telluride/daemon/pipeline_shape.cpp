#include "telluride/daemon/pipeline_shape.hpp"

#include "telluride/daemon/reading_decoder.hpp"

namespace telluride {

namespace {

// The batcher is chosen by bit 0, the processor by hash % processors; the batch processor
// uses the high half so that a batcher's sensors (all one parity) still spread evenly.
std::uint64_t batch_partition(causeway::message& msg) {
  const auto* r = decoded(msg);
  return r != nullptr ? r->hash >> 32 : 0;
}

causeway::batcher_options batcher(std::string_view name, std::size_t concurrency,
                                  std::size_t batch_size, std::chrono::milliseconds timeout) {
  causeway::batcher_options b;
  b.name = std::string{name};
  b.concurrency = concurrency;
  b.batch_size = batch_size;
  b.batch_timeout = timeout;
  b.partition_by = batch_partition;
  return b;
}

} // namespace

causeway::batcher_at batcher_for(std::uint64_t sensor_hash) noexcept {
  return causeway::batcher_at{static_cast<std::uint32_t>(sensor_hash & 1)};
}

causeway::pipeline_options make_pipeline_options(const config& cfg) {
  causeway::pipeline_options o;
  o.name = "telluride";
  o.producer.concurrency = cfg.producer_concurrency;
  o.producer.rate_limit = {cfg.rate_limit_allowed, cfg.rate_limit_interval};
  o.processors.concurrency = cfg.processor_concurrency;
  o.processors.partition_by = decode_reading;
  o.batchers = {  // in the order of batcher_for's positions
    batcher(batcher_one, cfg.sensor_batcher_one_concurrency, cfg.sensor_batcher_one_batch_size, cfg.batch_timeout),
    batcher(batcher_two, cfg.sensor_batcher_two_concurrency, cfg.sensor_batcher_two_batch_size, cfg.batch_timeout),
  };
  return o;
}

} // namespace telluride
