// state_stream.hpp — the state stream as durable mode writes and reads it (docs/wire-format.md,
// Shards and the state stream; docs/checkpoints.md).
//
// Records are published with confirms to the exchange named like the stream (`state_stream`,
// fanout, bound to the stream; broker_topology.hpp): the daemon's broker user may not publish
// to the default exchange (deploy/rabbitmq-users.sh), and its permissions on the stream's name
// cover an exchange of that name. Each record carries the headers `shard` (integer) and `kind`
// (string).
//
// The stream is read over AMQP 0-9-1 from its first record or from an offset (the consume
// argument `x-stream-offset`, a prefetch, acks that only grant credit), on a connection of its
// own, by a queue_tap; each record comes with the offset it was delivered at (the delivery's
// header `x-stream-offset`).
#pragma once

#include "telluride/daemon/checkpoint_round.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/amqp/arguments.hpp>
#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/publisher.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

namespace tools {
class queue_tap;
}

/// The exchange checkpoint records are published to: named like the stream.
inline const std::string& state_exchange(const config& cfg) { return cfg.state_stream; }

/// Records the broker confirmed but routed to no queue: the stream was deleted (and with it
/// its binding), or the binding was. The checkpoint publisher publishes mandatory and counts
/// each record given back (watch_unrouted); the sink then answers `unrouted`, and declares
/// `topology` again when asked.
struct unrouted_records {
  std::atomic<std::uint64_t> count{0};
  /// Declared again after a record went nowhere: the stream, its exchange and their binding
  /// (and, for layout records, the layout queue's: layout_topology).
  causeway::amqp::topology_spec topology;
};

/// Makes `options` publish mandatory and count in `unrouted` each message the broker gives back
/// from one of `exchanges` (the stream's; for layout records, the index exchange too).
void watch_unrouted(causeway::amqp::publisher_options& options, std::vector<std::string> exchanges,
                    std::shared_ptr<unrouted_records> unrouted);

/// Publishes records to the state stream's exchange on `publisher` (its own connection). With
/// `unrouted` (its publisher watched by watch_unrouted), a batch during which a record came
/// back is answered `unrouted`; without, records are taken as routed.
class stream_record_sink final : public record_sink {
public:
  stream_record_sink(std::shared_ptr<causeway::amqp::publisher> publisher, std::string exchange,
                     std::shared_ptr<unrouted_records> unrouted = nullptr);
  void publish(std::vector<outgoing_record> records, std::function<void(sink_answer)> done) override;
  /// On the publisher's connection thread, where its confirms arrive.
  bool post(std::function<void()> work) override;
  /// On the publisher's connection's loop (connection::set_alarm).
  void set_alarm(std::chrono::steady_clock::time_point due, std::function<void()> work) override;
  expected<void> declare_again() override;
  causeway::amqp::publisher& publisher() noexcept { return *publisher_; }

private:
  std::shared_ptr<causeway::amqp::publisher> publisher_;
  std::string exchange_;
  std::shared_ptr<unrouted_records> unrouted_;
  std::uint64_t alarm_ = 0;  // the connection's, while set; its thread only
};

/// A record as read from the stream: its bytes and the offset it was delivered at.
struct stream_record {
  std::int64_t offset = -1;  ///< -1: the delivery carried no offset
  std::string bytes;
};

/// Where a restore reads records from, in stream order.
class record_source {
public:
  virtual ~record_source() = default;
  /// The records that arrive within `timeout` (empty when none did); an error when the stream
  /// cannot be read on (its channel was lost: what comes next would start over).
  virtual expected<std::vector<stream_record>> next(std::chrono::milliseconds timeout) = 0;
};

/// Opens a reader of the state stream at offset `from` (none: at its first record).
using record_source_opener =
  std::function<expected<std::unique_ptr<record_source>>(std::optional<std::int64_t> from)>;

/// The state stream read from its first record, or from an offset.
class stream_record_source final : public record_source {
public:
  /// What a lost and reconnected channel means for the reader.
  enum class on_reconnect : std::uint8_t {
    fail,       ///< an error: what comes next would start over (a restore)
    start_over  ///< read on: the records come again from where the reading began (a reader to
                ///< whom a record read twice changes nothing, such as the shard coordinator's
                ///< claims)
  };
  /// Connects with `connection` and consumes `stream` from `from` (none: "first"); one-line
  /// errors. A connection whose reads are paced (its read_interval, longest_read_interval)
  /// hands records on at that pace too (at least every 24 ms, at most every second).
  static expected<std::unique_ptr<stream_record_source>> open(causeway::amqp::connection_options connection,
                                                              const std::string& stream,
                                                              std::optional<std::int64_t> from = std::nullopt,
                                                              on_reconnect reconnect = on_reconnect::fail);
  /// Reads from the stream's last chunk on (its latest records; none when it is empty).
  static expected<std::unique_ptr<stream_record_source>> open_last(causeway::amqp::connection_options connection,
                                                                   const std::string& stream);
  explicit stream_record_source(std::unique_ptr<tools::queue_tap> tap, on_reconnect reconnect = on_reconnect::fail);
  ~stream_record_source() override;

  expected<std::vector<stream_record>> next(std::chrono::milliseconds timeout) override;

private:
  /// Consumes `stream` from `start` (the consume argument x-stream-offset).
  static expected<std::unique_ptr<stream_record_source>> open_at(causeway::amqp::connection_options connection,
                                                                 const std::string& stream,
                                                                 causeway::amqp::argument_value start,
                                                                 on_reconnect reconnect);

  std::unique_ptr<tools::queue_tap> tap_;
  on_reconnect reconnect_;
  std::uint64_t channel_epoch_ = 0;  // of the first delivery; 0 before it
};

/// The offset in a delivery's headers as Causeway renders them (metadata "headers", a JSON
/// object): the integer of the top-level key `x-stream-offset`; -1 when there is none.
std::int64_t stream_offset_of(std::string_view headers_json) noexcept;

} // namespace telluride
