#include "telluride/daemon/state_stream.hpp"

#include "telluride/tools/queue_tap.hpp"

#include <utility>

namespace telluride {

namespace amqp = causeway::amqp;

namespace {

// Records taken per read burst before acks grant more (a stream may deliver a chunk more).
constexpr std::uint16_t stream_prefetch = 64;
// RabbitMQ's ceiling for a message: a snapshot of a large shard is one record.
constexpr std::size_t max_record_size = 512 * 1024 * 1024;

} // namespace

stream_record_sink::stream_record_sink(std::shared_ptr<amqp::publisher> publisher, std::string exchange)
  : publisher_(std::move(publisher)), exchange_(std::move(exchange)) {}

void stream_record_sink::publish(std::vector<outgoing_record> records, std::function<void(bool)> done) {
  std::vector<amqp::outgoing_message> batch;
  batch.reserve(records.size());
  for (auto& r : records) {
    amqp::outgoing_message msg;
    msg.exchange = exchange_;
    msg.body = std::move(r.bytes);
    msg.properties.content_type = "application/octet-stream";
    msg.properties.headers = {{"shard", static_cast<std::int64_t>(r.shard)}, {"kind", std::string(to_string(r.kind))}};
    batch.push_back(std::move(msg));
  }
  publisher_->publish_batch(std::move(batch), [done = std::move(done)](amqp::publish_outcome outcome) {
    done(outcome == amqp::publish_outcome::confirmed);
  });
}

stream_record_source::stream_record_source(std::unique_ptr<tools::queue_tap> tap, on_reconnect reconnect)
  : tap_(std::move(tap)), reconnect_(reconnect) {}

stream_record_source::~stream_record_source() = default;

expected<std::unique_ptr<stream_record_source>> stream_record_source::open(amqp::connection_options connection,
                                                                           const std::string& stream,
                                                                           on_reconnect reconnect) {
  tools::tap_options options;
  options.connection = std::move(connection);
  options.queue = stream;
  options.prefetch_count = stream_prefetch;
  options.consume_arguments = {{"x-stream-offset", std::string("first")}};
  options.max_body_size = max_record_size;
  options.is_stream = true;
  auto tap = tools::queue_tap::open(std::move(options));
  if (!tap)
    return error{"cannot read the state stream " + stream + ": " + tap.err().message};
  return std::make_unique<stream_record_source>(std::move(*tap), reconnect);
}

expected<std::vector<std::string>> stream_record_source::next(std::chrono::milliseconds timeout) {
  auto messages = tap_->take(timeout);
  std::vector<std::string> records;
  records.reserve(messages.size());
  for (auto& m : messages) {
    // A reconnected channel starts the stream again from the first record.
    if (channel_epoch_ == 0)
      channel_epoch_ = m.ack.epoch;
    if (m.ack.epoch != channel_epoch_) {
      if (reconnect_ == on_reconnect::fail)
        return error{"the connection to the state stream was lost while reading it"};
      channel_epoch_ = m.ack.epoch;  // the stream comes again from its first record
    }
    if (m.is_failed())
      return error{"a record of the state stream could not be read: " + m.failure_reason()};
    records.push_back(std::move(m.data));
  }
  tap_->acknowledge(messages);  // grants the stream's credit; records stay in the stream
  return records;
}

} // namespace telluride
