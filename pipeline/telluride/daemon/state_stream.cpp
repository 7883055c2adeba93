#include "telluride/daemon/state_stream.hpp"

#include "telluride/tools/queue_tap.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace telluride {

namespace amqp = causeway::amqp;

namespace {

// Records taken per read burst before acks grant more (a stream may deliver a chunk more).
constexpr std::uint16_t stream_prefetch = 64;
// RabbitMQ's ceiling for a message: a snapshot of a large shard is one record.
constexpr std::size_t max_record_size = 512 * 1024 * 1024;

} // namespace

void watch_unrouted(amqp::publisher_options& options, std::vector<std::string> exchanges,
                    std::shared_ptr<unrouted_records> unrouted) {
  options.mandatory = true;
  options.on_return = [exchanges = std::move(exchanges),
                       unrouted = std::move(unrouted)](const amqp::returned_message& returned) {
    if (std::find(exchanges.begin(), exchanges.end(), returned.exchange) != exchanges.end())
      ++unrouted->count;
  };
}

stream_record_sink::stream_record_sink(std::shared_ptr<amqp::publisher> publisher, std::string exchange,
                                       std::shared_ptr<unrouted_records> unrouted)
  : publisher_(std::move(publisher)), exchange_(std::move(exchange)), unrouted_(std::move(unrouted)) {}

expected<void> stream_record_sink::declare_again() {
  if (!unrouted_)
    return {};
  return amqp::declare(*publisher_->connection(), unrouted_->topology);
}

bool stream_record_sink::post(std::function<void()> work) {
  return publisher_->connection()->post(std::move(work));
}

void stream_record_sink::set_alarm(std::chrono::steady_clock::time_point due, std::function<void()> work) {
  auto& connection = *publisher_->connection();
  connection.cancel_alarm(std::exchange(alarm_, 0));
  if (work)
    alarm_ = connection.set_alarm(due, std::move(work));
}

void stream_record_sink::publish(std::vector<outgoing_record> records, std::function<void(sink_answer)> done) {
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
  // The broker gives a record back before it confirms it: counted by the time the batch's
  // last confirm arrives. (Records of another batch given back meanwhile fail this one too.)
  const std::uint64_t unrouted_before = unrouted_ ? unrouted_->count.load() : 0;
  publisher_->publish_batch(std::move(batch), [done = std::move(done), unrouted = unrouted_,
                                               unrouted_before](amqp::publish_outcome outcome) {
    if (outcome != amqp::publish_outcome::confirmed)
      done(sink_answer::refused);
    else if (unrouted && unrouted->count.load() != unrouted_before)
      done(sink_answer::unrouted);
    else
      done(sink_answer::confirmed);
  });
}

stream_record_source::stream_record_source(std::unique_ptr<tools::queue_tap> tap, on_reconnect reconnect)
  : tap_(std::move(tap)), reconnect_(reconnect) {}

stream_record_source::~stream_record_source() = default;

expected<std::unique_ptr<stream_record_source>> stream_record_source::open(amqp::connection_options connection,
                                                                           const std::string& stream,
                                                                           std::optional<std::int64_t> from,
                                                                           on_reconnect reconnect) {
  if (from)
    return open_at(std::move(connection), stream, *from, reconnect);
  return open_at(std::move(connection), stream, std::string("first"), reconnect);
}

expected<std::unique_ptr<stream_record_source>> stream_record_source::open_last(amqp::connection_options connection,
                                                                                const std::string& stream) {
  return open_at(std::move(connection), stream, std::string("last"), on_reconnect::fail);
}

expected<std::unique_ptr<stream_record_source>> stream_record_source::open_at(amqp::connection_options connection,
                                                                              const std::string& stream,
                                                                              amqp::argument_value start,
                                                                              on_reconnect reconnect) {
  tools::tap_options options;
  // A connection paced to read every so often hands the records on as often: one wake-up
  // for both (queue_source_options::default_connection).
  const auto paced = std::max(connection.read_interval, connection.longest_read_interval);
  options.handoff_interval = std::clamp(paced, options.handoff_interval, std::chrono::milliseconds{1000});
  options.connection = std::move(connection);
  options.queue = stream;
  options.prefetch_count = stream_prefetch;
  options.consume_arguments = {{"x-stream-offset", std::move(start)}};
  options.max_body_size = max_record_size;
  options.is_stream = true;
  auto tap = tools::queue_tap::open(std::move(options));
  if (!tap)
    return error{"cannot read the state stream " + stream + ": " + tap.err().message};
  return std::make_unique<stream_record_source>(std::move(*tap), reconnect);
}

expected<std::vector<stream_record>> stream_record_source::next(std::chrono::milliseconds timeout) {
  // The tap may come back empty before the timeout (an empty burst): that is not quiet yet,
  // and a restore that took it for the end of the stream would claim too early.
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  auto messages = tap_->take(timeout);
  while (messages.empty()) {
    const auto now = clock::now();
    if (now >= deadline)
      break;
    messages = tap_->take(std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
  }
  std::vector<stream_record> records;
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
    records.push_back(stream_record{stream_offset_of(m.metadata.get("headers")), std::move(m.data)});
  }
  tap_->acknowledge(messages);  // grants the stream's credit; records stay in the stream
  return records;
}

std::int64_t stream_offset_of(std::string_view headers_json) noexcept {
  // Causeway renders header names as JSON strings, escaping every quote inside a name or a
  // string value, so `"x-stream-offset":` can only be a key; records carry no nested tables
  // (their headers are `shard` and `kind`), so the only such key is the broker's.
  constexpr std::string_view key = "\"x-stream-offset\":";
  const auto at = headers_json.find(key);
  if (at == std::string_view::npos)
    return -1;
  std::int64_t offset = -1;
  const char* first = headers_json.data() + at + key.size();
  const char* last = headers_json.data() + headers_json.size();
  if (auto [end, ec] = std::from_chars(first, last, offset); ec != std::errc{} || offset < 0)
    return -1;
  return offset;
}

} // namespace telluride
