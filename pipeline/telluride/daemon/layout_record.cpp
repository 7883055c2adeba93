#include "telluride/daemon/layout_record.hpp"

#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/readings_lock.hpp"
#include "telluride/daemon/snapshot_index_store.hpp"
#include "telluride/daemon/state_stream.hpp"

#include <causeway/amqp/queue_peek.hpp>

#include <chrono>
#include <future>

namespace telluride {

namespace amqp = causeway::amqp;

namespace {

constexpr auto confirm_timeout = std::chrono::seconds(30);
constexpr std::string_view layout_routing_key = "layout";

/// Publishes `bytes` with `publish` and waits for the broker's confirm.
expected<void> confirmed(const std::string& what, std::future<amqp::publish_outcome> outcome) {
  if (outcome.wait_for(confirm_timeout) != std::future_status::ready)
    return error{"the broker did not confirm the " + what + " within " + std::to_string(confirm_timeout.count()) + " s"};
  if (outcome.get() != amqp::publish_outcome::confirmed)
    return error{"the broker refused the " + what};
  return {};
}

} // namespace

std::string layout_queue(const config& cfg) {
  return snapshot_index_exchange(cfg.state_stream) + "." + std::string(layout_routing_key);
}

std::string layout_lock_queue(const config& cfg) {
  return layout_queue(cfg) + ".lock";
}

amqp::topology_spec layout_topology(const config& cfg) {
  amqp::topology_spec spec = state_stream_topology(cfg);
  spec.exchanges.push_back({snapshot_index_exchange(cfg.state_stream), "direct", true, false, {}});
  spec.queues.push_back({layout_queue(cfg), true, false, false, {{"x-max-length", std::int64_t{1}}}});
  spec.bindings.push_back({layout_queue(cfg), snapshot_index_exchange(cfg.state_stream), std::string(layout_routing_key), {}});
  return spec;
}
/// Reads the layout queue; without a record there, the layout of the state stream's last
/// record (a deployment from before the layout queue), read for at most 2 s.
expected<layout_in_use> read_layout_in_use(amqp::connection& admin, const config& cfg,
                                           const amqp::connection_options& base) {
  auto held = amqp::peek_message(admin, layout_queue(cfg));
  if (!held)
    return error{held.err().message};
  if (*held) {
    auto record = decode_checkpoint(**held);
    if (!record)
      return error{"the layout record in " + layout_queue(cfg) + " does not decode (" + record.err().message +
                   "); purge that queue to fall back to the layout of the state stream's last record"};
    if (record->header.kind != record_kind::layout)
      return error{"the record in " + layout_queue(cfg) + " is a " + std::string(to_string(record->header.kind)) +
                   ", not a layout record; purge that queue to fall back to the state stream's last record"};
    return layout_in_use{record->header.layout, std::make_shared<const inherited_state>(std::move(record->image)),
                         true};
  }
  auto reading = base;
  reading.name = "telluride-layout-reader";
  auto source = stream_record_source::open_last(reading, cfg.state_stream);
  if (!source)
    return source.err();
  std::optional<std::uint32_t> last;
  using clock = std::chrono::steady_clock;
  for (const auto until = clock::now() + std::chrono::seconds(2); clock::now() < until;) {
    auto records = (*source)->next(std::chrono::milliseconds(300));
    if (!records)
      return records.err();
    if (records->empty())
      break;
    for (const stream_record& record : *records)
      if (auto header = decode_checkpoint_header(record.bytes))
        last = header->layout;
  }
  return layout_in_use{last, nullptr, false};
}

/// Declares the exclusive lock queue on `conn`: true when this connection holds it now, false
/// when another daemon's does.
expected<bool> try_lock_layout(amqp::connection& conn, const config& cfg) {
  return take_exclusive_lock(conn, layout_lock_queue(cfg));
}

/// The layout record of `layout` with `inheritance` in the layout queue: the layout in use.
expected<void> record_layout(amqp::publisher& publisher, const config& cfg, std::uint32_t layout,
                             shard_image inheritance) {
  checkpoint_record record;
  record.header = record_header{record_kind::layout, layout, 0, 0, 0, 0, now_ms(), cfg.node_name};
  record.image = std::move(inheritance);
  auto bytes = encode_checkpoint(record);
  if (!bytes)
    return bytes.err();
  amqp::outgoing_message msg;
  msg.exchange = snapshot_index_exchange(cfg.state_stream);
  msg.routing_key = std::string(layout_routing_key);
  msg.body = std::move(*bytes);
  msg.properties.content_type = "application/octet-stream";
  return confirmed("layout record in " + layout_queue(cfg), publisher.publish_async(std::move(msg)));
}

/// A change to `layout`: its layout record first in the state stream (the layout's shards start
/// afresh there), then with the inheritance in the layout queue.
expected<void> write_layout_change(const std::shared_ptr<amqp::publisher>& publisher, const config& cfg,
                                   std::uint32_t layout, shard_image inheritance) {
  checkpoint_record record;
  record.header = record_header{record_kind::layout, layout, 0, 0, 0, 0, now_ms(), cfg.node_name};
  auto marker = encode_checkpoint(record);
  if (!marker)
    return marker.err();
  auto in_stream = std::make_shared<std::promise<amqp::publish_outcome>>();
  std::vector<outgoing_record> records;
  records.push_back(outgoing_record{0, record_kind::layout, std::move(*marker)});
  stream_record_sink{publisher, state_exchange(cfg)}.publish(std::move(records), [in_stream](sink_answer answer) {
    in_stream->set_value(answer == sink_answer::confirmed ? amqp::publish_outcome::confirmed
                                                          : amqp::publish_outcome::nacked);
  });
  if (auto done = confirmed("layout record in " + cfg.state_stream, in_stream->get_future()); !done)
    return done;
  return record_layout(*publisher, cfg, layout, std::move(inheritance));
}

} // namespace telluride
