#include "telluride/daemon/snapshot_index_store.hpp"

#include <causeway/amqp/queue_peek.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <future>

namespace telluride {

namespace amqp = causeway::amqp;

namespace {

std::string index_routing_key(shard_identity shard) {
  return std::to_string(shard.layout) + "." + std::to_string(shard.shard);
}

} // namespace

std::string snapshot_index_exchange(const std::string& stream) {
  return stream + ".index";
}

std::string snapshot_index_queue(const std::string& stream, shard_identity shard) {
  return snapshot_index_exchange(stream) + "." + index_routing_key(shard);
}

amqp::topology_spec snapshot_index_topology(const std::string& stream, shard_identity shard) {
  const std::string exchange = snapshot_index_exchange(stream);
  amqp::topology_spec spec;
  spec.exchanges.push_back({exchange, "direct", true, false, {}});
  spec.queues.push_back({snapshot_index_queue(stream, shard), true, false, false, {{"x-max-length", std::int64_t{1}}}});
  spec.bindings.push_back({snapshot_index_queue(stream, shard), exchange, index_routing_key(shard), {}});
  return spec;
}

snapshot_index_store::snapshot_index_store(std::shared_ptr<amqp::publisher> publisher, std::string stream,
                                           std::chrono::milliseconds confirm_timeout)
  : publisher_(std::move(publisher)), stream_(std::move(stream)), confirm_timeout_(confirm_timeout) {}

expected<std::optional<std::string>> snapshot_index_store::read(shard_identity shard) {
  auto got = amqp::peek_message(*publisher_->connection(), snapshot_index_queue(stream_, shard));
  if (!got)
    return error{got.err().message};
  return std::move(*got);
}

expected<void> snapshot_index_store::write(const snapshot_index_entry& entry) {
  const shard_identity shard{entry.layout, entry.shard};
  auto bytes = encode_index_entry(entry);
  if (!bytes)
    return bytes.err();
  const std::string exchange = snapshot_index_exchange(stream_);
  {
    std::lock_guard lock(mutex_);
    if (!declared_.contains({shard.layout, shard.shard})) {
      if (auto declared = amqp::declare(*publisher_->connection(), snapshot_index_topology(stream_, shard)); !declared)
        return error{declared.err().message};
      declared_.insert({shard.layout, shard.shard});
    }
  }
  amqp::outgoing_message msg;
  msg.exchange = exchange;
  msg.routing_key = index_routing_key(shard);
  msg.body = std::move(*bytes);
  msg.properties.content_type = "application/octet-stream";
  auto outcome = publisher_->publish_async(std::move(msg));
  if (outcome.wait_for(confirm_timeout_) != std::future_status::ready)
    return error{"the broker did not confirm the snapshot index entry within " +
                 std::to_string(confirm_timeout_.count()) + " ms"};
  if (outcome.get() != amqp::publish_outcome::confirmed)
    return error{"the broker refused the snapshot index entry"};
  return {};
}

} // namespace telluride
