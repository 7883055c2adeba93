#include "telluride/daemon/layout_change.hpp"

#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/layout_record.hpp"
#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/durable_state.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/readings_intake.hpp"
#include "telluride/daemon/startup.hpp"

#include <causeway/amqp/publisher.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <spdlog/spdlog.h>

#include <numeric>
#include <thread>

namespace telluride {

namespace amqp = causeway::amqp;

namespace {

using clock_type = std::chrono::steady_clock;

constexpr auto poll_every = std::chrono::milliseconds(250);
constexpr int max_drain_runs = 5;

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

/// Waits, `poll_every` at a time, until `done` says so: true then, false when a stop was
/// requested first, or `done`'s error.
expected<bool> wait_until(const layout_change_parts& p, const std::function<expected<bool>()>& done) {
  for (;;) {
    auto is_done = done();
    if (!is_done || *is_done)
      return is_done;
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

/// wait_until the sum over `queues` (sum_of) is `done`.
expected<bool> wait_on_queues(const layout_change_parts& p, amqp::connection& admin,
                              const std::vector<std::string>& queues,
                              const std::function<bool(const amqp::queue_state&)>& done) {
  return wait_until(p, [&]() -> expected<bool> {
    auto sum = sum_of(admin, queues);
    if (!sum)
      return sum.err();
    return done(*sum);
  });
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
  // Memory mode: no state to restore or checkpoint, the readings are counted in this process.
  auto durable =
    old_cfg.state == state_mode::durable ? std::make_shared<durable_state>(old_cfg, p.health) : nullptr;
  auto stop_durable = [&] {
    if (durable)
      durable->stop();
  };
  broker_wants wants;
  wants.declare = false;
  wants.control = false;
  wants.durable = durable.get();
  auto broker = connect_broker(old_cfg, p.connect_timeout, std::move(wants));
  if (!broker)
    return broker.err();
  auto tracker = make_tracker(old_cfg, rules, max_sensors_bound(old_cfg));
  tracker->inherit_from(inherited);
  if (durable) {
    if (auto restored = durable->restore(base, *tracker, rules); !restored)
      return restored.err();
    durable->start_writing(tracker, std::make_shared<config_store>(old_cfg));
  }
  std::shared_ptr<readings_intake> intake;
  if (old_cfg.shards > 1) {
    // Under the layout lock, once the old queues have no consumer left: no shard lock needed.
    intake = std::make_shared<readings_intake>(broker->readings, old_cfg.shards, nullptr);
    std::vector<std::uint32_t> all(old_cfg.shards);
    std::iota(all.begin(), all.end(), 0);
    for (std::uint32_t shard : all)
      if (durable)
        if (auto taken = durable->take_shard(base, *tracker, rules, shard); !taken) {
          stop_durable();
          return taken.err();
        }
    if (auto set = intake->set_shards(all); !set) {
      stop_durable();
      return set.err();
    }
  } else {
    intake = std::make_shared<readings_intake>(broker->readings);
  }
  auto started = causeway::pipeline::start(
    *p.system, readings_pipeline_spec(old_cfg, *intake, std::make_shared<reading_handler>(tracker, p.totals, out),
                                      p.stages));
  if (!started) {
    stop_durable();
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
  const auto finished = wait_on_queues(p, admin, queues, [&](const amqp::queue_state& sum) {
    quiet = sum.messages_ready == 0 && is_settled() ? quiet + 1 : 0;
    return quiet >= 2;
  });
  intake->set_consuming(false);
  started->drain();
  started->stop();
  stop_durable();
  if (!finished)
    return finished.err();
  drained_layout drained;
  drained.stopped = !*finished;
  const auto settled = intake->stats();
  drained.applied = settled.acked + settled.rejected;
  auto left = sum_of(admin, queues);
  if (!left)
    return left.err();
  drained.is_complete = *finished && is_settled() && left->messages_ready == 0;
  if (!drained.is_complete)
    return drained;
  for (std::size_t slot = 0; slot < tracker->shard_count(); ++slot)
    tracker->with_shard(slot, [&](shard_state& state) { drained.finals.push_back(state.take_snapshot()); });
  // The aggregates as the old layout leaves them: a sensor whose readings do not come again is
  // published all the same.
  for (std::string& aggregate : tracker->take_changed_json())
    out->aggregate(std::move(aggregate));
  return drained;
}

/// One change, from the layout of `from` to that of `to` (with `inherited` from before).
expected<layout_settled> change_layout(const layout_change_parts& p, amqp::connection& admin,
                                       const layout_publisher& publisher, std::uint32_t from, std::uint32_t to,
                                       std::shared_ptr<const inherited_state> inherited) {
  const auto started = clock_type::now();
  const config old_cfg = with_shards(p.cfg, from);
  const auto old_queues = queues_of(old_cfg, from);
  bool said = false;
  const auto is_alone = wait_on_queues(p, admin, old_queues, [&](const amqp::queue_state& sum) {
    if (sum.consumers > 0 && !said) {
      spdlog::info("changing the number of shards from {} to {}: waiting for the {} consumers of the old queues "
                   "to stop (the daemons still running with shards {})",
                   from, to, sum.consumers, from);
      said = true;
    }
    return sum.consumers == 0;
  });
  if (!is_alone)
    return is_alone.err();
  if (!*is_alone)
    return layout_settled{nullptr, true};
  if (auto declared = declare_broker_topology(admin, with_shards(p.cfg, to)); !declared)
    return error{explain_declaration_failure(declared.err().message)};

  auto out = std::make_shared<outputs>(publisher.publisher, p.cfg.routes);
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
  if (p.cfg.state == state_mode::durable)
    if (auto written = write_layout_change(publisher, p.cfg, to, next); !written)
      return error{"changing the number of shards from " + std::to_string(from) + " to " + std::to_string(to) +
                   ": " + written.err().message};
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
  spdlog::info("the number of shards changed from {} to {} in {} ms: {} readings left in the old queues applied, "
               "{} sensors handed on to the new shards",
               from, to, took.count(), drained.applied, sensors);
  return layout_settled{std::make_shared<const inherited_state>(std::move(next)), false};
}

/// Memory mode (no stream, no layout record): the layout whose readings are left in queues this
/// daemon would not consume, or would consume as the wrong shards; none when they hold nothing.
/// With K > 1: the readings queue's (1); or, the shard queues that exist being L of them from 0
/// on, L when L < K and they hold readings (a smaller layout ran: its sensors hash elsewhere in
/// K), or when L > K and those from K on hold readings (a larger one ran: nothing consumes them).
/// With 1: the shard queues' (as many as exist).
expected<layout_in_use> leftover_layout(amqp::connection& admin, const config& cfg) {
  std::uint32_t existing = 0;
  while (existing < max_shard_queues && amqp::inspect_queue(admin, shard_queue(cfg.routes, existing)))
    ++existing;
  auto holds_readings = [&](std::vector<std::string> queues) -> expected<bool> {
    auto left = sum_of(admin, queues);
    if (!left)
      return left.err();
    return left->messages_ready > 0;
  };
  std::vector<std::uint32_t> candidates;  // most likely first
  if (cfg.shards > 1) {
    candidates.push_back(1);
    if (existing > 1 && existing != cfg.shards)
      candidates.push_back(existing);
  } else if (existing > 0) {
    candidates.push_back(existing);
  }
  for (std::uint32_t layout : candidates) {
    auto queues = queues_of(cfg, layout);
    if (layout > cfg.shards && cfg.shards > 1)
      queues.erase(queues.begin(), queues.begin() + cfg.shards);  // only the queues K no longer has
    auto left = holds_readings(std::move(queues));
    if (!left)
      return left.err();
    if (*left)
      return layout_in_use{layout, nullptr, false};
  }
  return layout_in_use{};
}

/// Memory mode: the readings a run with `from` shards left are consumed first (the state they
/// make is this process's, handed on to its slots). From K_a > 1 to K_b > 1 through 1, as in
/// durable mode: the two layouts share queue names. The shard queues above K_b, empty and
/// unbound by then, are deleted, so that the next start does not take them for a layout.
expected<layout_settled> in_memory_change(const layout_change_parts& p, amqp::connection& admin,
                                          const amqp::connection_options& base, std::uint32_t from) {
  auto publisher = open_layout_publisher(base, p.cfg);
  if (!publisher)
    return publisher.err();
  const std::uint32_t to = p.cfg.shards;
  std::vector<std::uint32_t> steps{to};
  if (from > 1 && to > 1)
    steps.insert(steps.begin(), 1);
  layout_settled settled;
  std::uint32_t at = from;
  for (std::uint32_t step : steps) {
    auto changed = change_layout(p, admin, *publisher, at, step, std::move(settled.inherited));
    if (!changed || changed->stopped)
      return changed;
    settled = std::move(*changed);
    at = step;
  }
  for (std::uint32_t shard = std::max<std::uint32_t>(to, 1); to > 1 && shard < from; ++shard)
    if (auto deleted = amqp::delete_queue(admin, shard_queue(p.cfg.routes, shard)); !deleted)
      spdlog::warn("the shard queue {} of the old layout could not be deleted: {}", shard_queue(p.cfg.routes, shard),
                   deleted.err().message);
  return settled;
}

} // namespace

expected<layout_settled> settle_layout(const layout_change_parts& p) {
  const config& cfg = p.cfg;
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
    if (cfg.state != state_mode::durable) {
      in_use = leftover_layout(*admin, cfg);
    } else {
      if (auto declared = amqp::declare(*admin, layout_topology(cfg)); !declared)
        return error{"cannot declare the state stream " + cfg.state_stream + ": " + declared.err().message};
      in_use = read_layout_in_use(*admin, cfg, base);
    }
  }
  if (!in_use)
    return in_use.err();
  if (cfg.state != state_mode::durable) {
    if (!in_use->layout)
      return layout_settled{};
    return in_memory_change(p, *admin, base, *in_use->layout);
  }
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
  const auto is_locked = wait_until(p, [&]() -> expected<bool> {
    auto locked = try_lock_layout(**lock, cfg);
    if (locked && !*locked && !said) {
      spdlog::info("another daemon is changing the number of shards; waiting for it");
      said = true;
    }
    return locked;
  });
  if (!is_locked)
    return is_locked.err();
  if (!*is_locked)
    return layout_settled{nullptr, true};
  in_use = read_layout_in_use(*admin, cfg, base);
  if (!in_use)
    return in_use.err();

  auto publisher = open_layout_publisher(base, cfg);
  if (!publisher)
    return publisher.err();
  if (!in_use->layout || *in_use->layout == cfg.shards) {
    // A deployment from before the layout queue: its layout is recorded, so that the next
    // starts need not read the stream.
    if (in_use->layout && !in_use->is_recorded)
      if (auto recorded = record_layout(*publisher, cfg, cfg.shards, {}); !recorded)
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
