#include "telluride/daemon/claims_tail.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace telluride {

namespace {

constexpr int max_bursts = 64;  // per read: a tick or two behind the writers, however long the stream

} // namespace

claims_tail::claims_tail(causeway::amqp::connection_options connection, std::string stream, std::uint32_t layout,
                         std::unique_ptr<stream_record_source> source)
  : connection_(std::move(connection)), stream_(std::move(stream)), claims_(layout), source_(std::move(source)) {}

expected<std::unique_ptr<claims_tail>> claims_tail::open(causeway::amqp::connection_options connection,
                                                         std::string stream, std::uint32_t layout) {
  connection.name = "telluride-claims";
  auto tail = std::make_unique<claims_tail>(std::move(connection), std::move(stream), layout, nullptr);
  auto source = tail->open_source();
  if (!source)
    return source.err();
  tail->source_ = std::move(*source);
  return tail;
}

expected<std::unique_ptr<stream_record_source>> claims_tail::open_source() const {
  return stream_record_source::open(connection_, stream_, std::nullopt, stream_record_source::on_reconnect::start_over);
}

void claims_tail::read(std::chrono::steady_clock::time_point now,
                       const std::function<void(const record_header&)>& on_claim) {
  if (!source_ && now >= retry_at_) {
    retry_at_ = now + std::chrono::seconds(1);
    if (auto reopened = open_source(); reopened) {
      source_ = std::move(*reopened);
      claims_ = shard_claims{claims_.layout()};
    }
  }
  for (int burst = 0; burst < max_bursts && source_; ++burst)
    if (!read_burst(on_claim))
      return;
}

bool claims_tail::read_burst(const std::function<void(const record_header&)>& on_claim) {
  auto records = source_->next(std::chrono::milliseconds(1));
  if (!records) {
    spdlog::warn("tail of the state stream: {}; reading it again from its first record", records.err().message);
    source_.reset();  // opened again by the next read
    return false;
  }
  if (records->empty())
    return false;
  for (const auto& record : *records) {
    auto header = decode_checkpoint_header(record.bytes);
    if (header && claims_.read(*header) == claim_news::claimed)
      on_claim(*header);
  }
  return true;
}

} // namespace telluride
