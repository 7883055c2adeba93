#include "telluride/daemon/layout_record.hpp"

#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/readings_lock.hpp"
#include "telluride/daemon/snapshot_index_store.hpp"
#include "telluride/daemon/state_stream.hpp"

#include <causeway/amqp/queue_peek.hpp>

#include <chrono>
#include <functional>
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

/// Runs `attempt` (true: the record reached its queue; false: the broker routed it to no queue)
/// and, after a false, declares the layout topology again and runs it once more.
expected<void> routed_or_again(const layout_publisher& p, const std::string& what,
                               const std::function<expected<bool>()>& attempt) {
  for (int tries = 1;; ++tries) {
    auto routed = attempt();
    if (!routed)
      return routed.err();
    if (*routed)
      return {};
    if (tries == 2)
      return error{"the broker routed the " + what + " to no queue twice"};
    if (auto declared = amqp::declare(*p.publisher->connection(), p.unrouted->topology); !declared)
      return error{"the broker routed the " + what + " to no queue, and declaring it again failed: " +
                   declared.err().message};
  }
}

} // namespace

expected<layout_publisher> open_layout_publisher(const amqp::connection_options& base, const config& cfg) {
  amqp::publisher_options options;
  options.connection = base;
  options.connection.name = "telluride-layout-publisher";
  auto unrouted = std::make_shared<unrouted_records>();
  unrouted->topology = layout_topology(cfg);
  watch_unrouted(options, {state_exchange(cfg), snapshot_index_exchange(cfg.state_stream)}, unrouted);
  auto publisher = amqp::publisher::open(options);
  if (!publisher)
    return error{"cannot open the layout change's publishing connection: " + publisher.err().message};
  return layout_publisher{std::move(*publisher), std::move(unrouted)};
}

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
expected<void> record_layout(const layout_publisher& publisher, const config& cfg, std::uint32_t layout,
                             shard_image inheritance) {
  checkpoint_record record;
  record.header = record_header{record_kind::layout, layout, 0, 0, 0, 0, now_ms(), cfg.node_name};
  record.image = std::move(inheritance);
  auto bytes = encode_checkpoint(record);
  if (!bytes)
    return bytes.err();
  const std::string what = "layout record in " + layout_queue(cfg);
  return routed_or_again(publisher, what, [&]() -> expected<bool> {
    amqp::outgoing_message msg;
    msg.exchange = snapshot_index_exchange(cfg.state_stream);
    msg.routing_key = std::string(layout_routing_key);
    msg.body = *bytes;
    msg.properties.content_type = "application/octet-stream";
    // The broker gives a record back before it confirms it: counted once the confirm is here.
    const std::uint64_t unrouted_before = publisher.unrouted->count.load();
    if (auto done = confirmed(what, publisher.publisher->publish_async(std::move(msg))); !done)
      return done.err();
    return publisher.unrouted->count.load() == unrouted_before;
  });
}

/// A change to `layout`: its layout record first in the state stream (the layout's shards start
/// afresh there), then with the inheritance in the layout queue.
expected<void> write_layout_change(const layout_publisher& publisher, const config& cfg, std::uint32_t layout,
                                   shard_image inheritance) {
  checkpoint_record record;
  record.header = record_header{record_kind::layout, layout, 0, 0, 0, 0, now_ms(), cfg.node_name};
  auto marker = encode_checkpoint(record);
  if (!marker)
    return marker.err();
  const std::string what = "layout record in " + cfg.state_stream;
  stream_record_sink sink{publisher.publisher, state_exchange(cfg), publisher.unrouted};
  auto written = routed_or_again(publisher, what, [&]() -> expected<bool> {
    std::vector<outgoing_record> records;
    records.push_back(outgoing_record{0, record_kind::layout, *marker});
    const auto answer = publish_and_wait(sink, std::move(records), confirm_timeout);
    if (!answer)
      return error{"the broker did not confirm the " + what + " within " + std::to_string(confirm_timeout.count()) +
                   " s"};
    if (*answer == sink_answer::refused)
      return error{"the broker refused the " + what};
    return *answer == sink_answer::confirmed;
  });
  if (!written)
    return written;
  return record_layout(publisher, cfg, layout, std::move(inheritance));
}

} // namespace telluride
