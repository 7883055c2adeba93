// claims_tail.hpp — the shard coordinator's tail of the state stream (durable mode): the stream
// read from its first record, on a connection of its own, each record's header folded into
// shard_claims (who claimed each shard, who released it), in stream order.
//
// When its channel comes back after a loss, the stream comes again from its first record and
// the tail reads on (a claim or a release read twice changes nothing). A tail that fails
// otherwise is opened again, every second until it opens, its claims read again from the start.
// Not thread-safe: the coordinator's loop thread only.
#pragma once

#include "telluride/daemon/shard_claims.hpp"
#include "telluride/daemon/state_stream.hpp"

#include <causeway/amqp/connection.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace telluride {

class claims_tail {
public:
  /// Opens the tail of `stream` for a layout of `layout` shards; a one-line error.
  static expected<std::unique_ptr<claims_tail>> open(causeway::amqp::connection_options connection,
                                                     std::string stream, std::uint32_t layout);

  /// Reads what has come, at most a bounded number of bursts (the stream may be long at start),
  /// calling `on_claim(header)` for each new claim (a takeover above every epoch before it).
  void read(std::chrono::steady_clock::time_point now, const std::function<void(const record_header&)>& on_claim);

  const shard_claims& claims() const noexcept { return claims_; }

  claims_tail(causeway::amqp::connection_options connection, std::string stream, std::uint32_t layout,
              std::unique_ptr<stream_record_source> source);

private:
  bool read_burst(const std::function<void(const record_header&)>& on_claim);
  expected<std::unique_ptr<stream_record_source>> open_source() const;

  causeway::amqp::connection_options connection_;
  std::string stream_;
  shard_claims claims_;
  std::unique_ptr<stream_record_source> source_;
  std::chrono::steady_clock::time_point retry_at_{};
};

} // namespace telluride
