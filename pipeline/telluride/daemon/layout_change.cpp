#include "telluride/daemon/layout_change.hpp"

#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/durable_state.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/readings_intake.hpp"
#include "telluride/daemon/snapshot_index_store.hpp"
#include "telluride/daemon/startup.hpp"
#include "telluride/daemon/state_stream.hpp"

#include <causeway/amqp/publisher.hpp>
#include <causeway/amqp/queue_peek.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <spdlog/spdlog.h>

#include <future>
#include <numeric>
#include <thread>

namespace telluride {

namespace amqp = causeway::amqp;

namespace {

using clock_type = std::chrono::steady_clock;

constexpr auto poll_every = std::chrono::milliseconds(250);
constexpr auto confirm_timeout = std::chrono::seconds(30);
constexpr int max_drain_runs = 5;
constexpr std::string_view layout_routing_key = "layout";

std::string lock_queue(const config& cfg) {
  return layout_queue(cfg) + ".lock";
}

/// The queues a layout's readings wait in: the readings queue with one shard, else the shard
/// queues.
std::vector<std::string> queues_of(const config& cfg, std::uint32_t layout) {
  if (layout <= 1)
    return {cfg.routes.readings_queue};
  std::vector<std::string> queues;
  for (std::uint32_t shard = 0; shard < layout; ++shard)
    queues.push_back(shard_queue(cfg.routes, shard));
  return queues;
}

config with_shards(const config& cfg, std::uint32_t shards) {
  config out = cfg;
  out.shards = shards;
  return out;
}

alert_rules rules_of(const config& cfg) {
  alert_rules rules;
  rules.thresholds = cfg.alert_thresholds;
  rules.alert_after = cfg.alert_after;
  return rules;
}

/// The layout in use: none on a fresh deployment.
struct layout_in_use {
  std::optional<std::uint32_t> layout;
  std::shared_ptr<const inherited_state> inherited;
  bool is_recorded = false;  ///< named by the layout queue (else by the stream's last record)
};

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
  for (const auto until = clock_type::now() + std::chrono::seconds(2); clock_type::now() < until;) {
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
expected<bool> try_lock(amqp::connection& conn, const config& cfg) {
  amqp::topology_spec spec;
  spec.queues.push_back({lock_queue(cfg), false, true, true, {}});
  auto declared = amqp::declare(conn, spec);
  if (declared)
    return true;
  if (declared.err().message.find("RESOURCE_LOCKED") != std::string::npos)
    return false;
  return error{"cannot take the layout lock " + lock_queue(cfg) + ": " + declared.err().message};
}

/// Waits, `poll_every` at a time, until `done` says so; false when a stop was requested first.
bool wait_until(const layout_change_parts& p, const std::function<expected<bool>()>& done, expected<void>& failed) {
  for (;;) {
    auto is_done = done();
    if (!is_done) {
      failed = is_done.err();
      return false;
    }
    if (*is_done)
      return true;
    if (p.stop_requested())
      return false;
    std::this_thread::sleep_for(poll_every);
  }
}

/// Readings ready in `queues` (missing queues hold none), and consumers on them.
expected<amqp::queue_state> sum_of(amqp::connection& admin, const std::vector<std::string>& queues) {
  amqp::queue_state sum;
  for (const std::string& queue : queues) {
    auto state = amqp::inspect_queue(admin, queue);
    if (!state) {
      if (state.err().message.find("NOT_FOUND") != std::string::npos)
        continue;
      return error{state.err().message};
    }
    sum.messages_ready += state->messages_ready;
    sum.consumers += state->consumers;
  }
  return sum;
}

/// What consuming an old layout's queues until they were empty gave.
struct drained_layout {
  std::vector<shard_image> finals;  ///< each shard's whole state, when complete
  std::uint64_t applied = 0;        ///< readings settled (applied, or dead-lettered)
  bool is_complete = false;         ///< every reading taken was settled and the queues are empty
  bool stopped = false;
};

/// Consumes the queues of `old_cfg`'s layout as its shards, from their restored state, until
/// they are empty and every reading is checkpointed and acknowledged.
expected<drained_layout> drain_layout(const layout_change_parts& p, const config& old_cfg,
                                      const std::shared_ptr<const inherited_state>& inherited,
                                      amqp::connection& admin, const std::shared_ptr<outputs>& out) {
  const alert_rules rules = rules_of(old_cfg);
  const auto base = base_connection(old_cfg, p.connect_timeout);
  auto durable = std::make_shared<durable_state>(old_cfg, p.health);
  auto broker = connect_broker(old_cfg, p.connect_timeout, durable.get(), false);
  if (!broker)
    return broker.err();
  auto tracker = make_tracker(old_cfg, rules, max_sensors_bound(old_cfg));
  tracker->inherit_from(inherited);
  if (auto restored = durable->restore(base, *tracker, rules); !restored)
    return restored.err();
  durable->start_writing(tracker, std::make_shared<config_store>(old_cfg));
  std::shared_ptr<readings_intake> intake;
  if (old_cfg.shards > 1) {
    intake = std::make_shared<readings_intake>(broker->readings, old_cfg.shards);
    std::vector<std::uint32_t> all(old_cfg.shards);
    std::iota(all.begin(), all.end(), 0);
    for (std::uint32_t shard : all)
      if (auto taken = durable->take_shard(base, *tracker, rules, shard); !taken) {
        durable->stop();
        return taken.err();
      }
    if (auto set = intake->set_shards(all); !set) {
      durable->stop();
      return set.err();
    }
  } else {
    intake = std::make_shared<readings_intake>(broker->readings);
  }
  auto started = causeway::pipeline::start(
    *p.system, readings_pipeline_spec(old_cfg, *intake, std::make_shared<reading_handler>(tracker, p.totals, out),
                                      p.stages));
  if (!started) {
    durable->stop();
    return error{started.err().message};
  }
  intake->set_consuming(true);

  const auto queues = queues_of(old_cfg, old_cfg.shards);
  auto is_settled = [&] {
    const auto s = intake->stats();
    return s.delivered == s.acked + s.rejected;
  };
  // Empty twice in a row, with nothing taken and unsettled.
  int quiet = 0;
  expected<void> failed;
  const bool finished = wait_until(
    p,
    [&]() -> expected<bool> {
      auto sum = sum_of(admin, queues);
      if (!sum)
        return sum.err();
      quiet = sum->messages_ready == 0 && is_settled() ? quiet + 1 : 0;
      return quiet >= 2;
    },
    failed);
  intake->set_consuming(false);
  started->drain();
  started->stop();
  durable->stop();
  if (!failed)
    return failed.err();
  drained_layout drained;
  drained.stopped = !finished;
  drained.applied = intake->stats().acked + intake->stats().rejected;
  auto left = sum_of(admin, queues);
  if (!left)
    return left.err();
  drained.is_complete = finished && is_settled() && left->messages_ready == 0;
  if (drained.is_complete)
    for (std::size_t slot = 0; slot < tracker->shard_count(); ++slot)
      tracker->with_shard(slot, [&](shard_state& state) { drained.finals.push_back(state.take_snapshot()); });
  return drained;
}

/// Publishes `bytes` with `publish` and waits for the broker's confirm.
expected<void> confirmed(const std::string& what, std::future<amqp::publish_outcome> outcome) {
  if (outcome.wait_for(confirm_timeout) != std::future_status::ready)
    return error{"the broker did not confirm the " + what + " within " + std::to_string(confirm_timeout.count()) + " s"};
  if (outcome.get() != amqp::publish_outcome::confirmed)
    return error{"the broker refused the " + what};
  return {};
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
  stream_record_sink{publisher, state_exchange(cfg)}.publish(std::move(records), [in_stream](bool ok) {
    in_stream->set_value(ok ? amqp::publish_outcome::confirmed : amqp::publish_outcome::nacked);
  });
  if (auto done = confirmed("layout record in " + cfg.state_stream, in_stream->get_future()); !done)
    return done;
  return record_layout(*publisher, cfg, layout, std::move(inheritance));
}

/// One change, from the layout of `from` to that of `to` (with `inherited` from before).
expected<layout_settled> change_layout(const layout_change_parts& p, amqp::connection& admin,
                                       const std::shared_ptr<amqp::publisher>& publisher, std::uint32_t from,
                                       std::uint32_t to, std::shared_ptr<const inherited_state> inherited) {
  const auto started = clock_type::now();
  const config old_cfg = with_shards(p.cfg, from);
  const auto old_queues = queues_of(old_cfg, from);
  bool said = false;
  expected<void> failed;
  const bool is_alone = wait_until(
    p,
    [&]() -> expected<bool> {
      auto sum = sum_of(admin, old_queues);
      if (!sum)
        return sum.err();
      if (sum->consumers > 0 && !said) {
        spdlog::info("changing the number of shards from {} to {}: waiting for the {} consumers of the old queues "
                     "to stop (the daemons still running with shards {})",
                     from, to, sum->consumers, from);
        said = true;
      }
      return sum->consumers == 0;
    },
    failed);
  if (!failed)
    return failed.err();
  if (!is_alone)
    return layout_settled{nullptr, true};
  if (auto declared = declare_broker_topology(admin, with_shards(p.cfg, to)); !declared)
    return error{explain_declaration_failure(declared.err().message)};

  auto out = std::make_shared<outputs>(publisher, p.cfg.routes);
  drained_layout drained;
  for (int run = 1;; ++run) {
    auto once = drain_layout(p, old_cfg, inherited, admin, out);
    if (!once)
      return error{"changing the number of shards from " + std::to_string(from) + " to " + std::to_string(to) +
                   ": " + once.err().message};
    drained.applied += once->applied;
    if (once->stopped)
      return layout_settled{nullptr, true};
    if (once->is_complete) {
      drained.finals = std::move(once->finals);
      break;
    }
    if (run == max_drain_runs)
      return error{"changing the number of shards from " + std::to_string(from) + " to " + std::to_string(to) +
                   ": readings of the old layout kept coming back unsettled (" + std::to_string(run) + " runs)"};
    spdlog::warn("changing the number of shards from {} to {}: readings of the old layout came back; consuming them again",
                 from, to);
  }
  auto next = next_inheritance(inherited.get(), drained.finals, message_id_capacity(p.cfg));
  const std::size_t sensors = next.sensors.size();
  if (auto written = write_layout_change(publisher, p.cfg, to, next); !written)
    return error{"changing the number of shards from " + std::to_string(from) + " to " + std::to_string(to) + ": " +
                 written.err().message};
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
  spdlog::info("the number of shards changed from {} to {} in {} ms: {} readings left in the old queues applied, "
               "{} sensors handed on to the new shards",
               from, to, took.count(), drained.applied, sensors);
  return layout_settled{std::make_shared<const inherited_state>(std::move(next)), false};
}

} // namespace

std::string layout_queue(const config& cfg) {
  return snapshot_index_exchange(cfg.state_stream) + "." + std::string(layout_routing_key);
}

expected<layout_settled> settle_layout(const layout_change_parts& p) {
  const config& cfg = p.cfg;
  if (cfg.state != state_mode::durable)
    return layout_settled{};
  auto base = base_connection(cfg, p.connect_timeout);
  base.name = "telluride-layout";
  std::shared_ptr<amqp::connection> admin;
  expected<layout_in_use> in_use = layout_in_use{};
  {
    // Finding the layout in use is one quiet step of the start; a change says what it does.
    const quiet_logs quiet;
    auto opened = retry_unreachable(cfg, p.connect_timeout, [&]() -> expected<void> {
      auto conn = amqp::connection::open(base);
      if (!conn)
        return conn.err();
      admin = std::move(*conn);
      return {};
    });
    if (!opened)
      return opened.err();
    amqp::topology_spec spec = state_stream_topology(cfg);
    spec.exchanges.push_back({snapshot_index_exchange(cfg.state_stream), "direct", true, false, {}});
    spec.queues.push_back({layout_queue(cfg), true, false, false, {{"x-max-length", std::int64_t{1}}}});
    spec.bindings.push_back({layout_queue(cfg), snapshot_index_exchange(cfg.state_stream),
                             std::string(layout_routing_key), {}});
    if (auto declared = amqp::declare(*admin, spec); !declared)
      return error{"cannot declare the state stream " + cfg.state_stream + ": " + declared.err().message};
    in_use = read_layout_in_use(*admin, cfg, base);
  }
  if (!in_use)
    return in_use.err();
  // The layout recorded is this daemon's; or nothing ran yet (it is recorded once a layout has
  // run: a daemon that then fails to start, say for a missing plugin, leaves nothing behind).
  if (!in_use->layout || (in_use->is_recorded && *in_use->layout == cfg.shards))
    return layout_settled{std::move(in_use->inherited), false};

  // One daemon changes or records the layout; the others wait for it, then find it done.
  auto locking = base;
  locking.name = "telluride-layout-lock";
  auto lock = amqp::connection::open(locking);
  if (!lock)
    return error{lock.err().message};
  bool said = false;
  expected<void> failed;
  const bool is_locked = wait_until(
    p,
    [&]() -> expected<bool> {
      auto locked = try_lock(**lock, cfg);
      if (locked && !*locked && !said) {
        spdlog::info("another daemon is changing the number of shards; waiting for it");
        said = true;
      }
      return locked;
    },
    failed);
  if (!failed)
    return failed.err();
  if (!is_locked)
    return layout_settled{nullptr, true};
  in_use = read_layout_in_use(*admin, cfg, base);
  if (!in_use)
    return in_use.err();

  amqp::publisher_options options;
  options.connection = base;
  options.connection.name = "telluride-layout-publisher";
  auto publisher = amqp::publisher::open(options);
  if (!publisher)
    return error{"cannot open the layout change's publishing connection: " + publisher.err().message};
  if (!in_use->layout || *in_use->layout == cfg.shards) {
    // A deployment from before the layout queue: its layout is recorded, so that the next
    // starts need not read the stream.
    if (in_use->layout && !in_use->is_recorded)
      if (auto recorded = record_layout(**publisher, cfg, cfg.shards, {}); !recorded)
        return recorded.err();
    return layout_settled{std::move(in_use->inherited), false};
  }
  // A > 1 to B > 1 shares queue names: through 1, so that A's queues are empty before B's
  // routing starts.
  const std::uint32_t from = *in_use->layout;
  std::vector<std::uint32_t> steps{cfg.shards};
  if (from > 1 && cfg.shards > 1)
    steps.insert(steps.begin(), 1);
  spdlog::info("the state stream {} is in a layout of {} shards, this daemon runs {}: changing it{}", cfg.state_stream,
               from, cfg.shards, steps.size() > 1 ? " (through 1 shard)" : "");
  layout_settled settled{std::move(in_use->inherited), false};
  std::uint32_t at = from;
  for (std::uint32_t to : steps) {
    auto changed = change_layout(p, *admin, *publisher, at, to, std::move(settled.inherited));
    if (!changed || changed->stopped)
      return changed;
    settled = std::move(*changed);
    at = to;
  }
  return settled;
}

} // namespace telluride
