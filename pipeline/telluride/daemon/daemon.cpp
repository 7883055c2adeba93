#include "telluride/daemon/daemon.hpp"

#include "telluride/cli/commands.hpp"
#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/config_actor.hpp"
#include "telluride/daemon/control_forwarder.hpp"
#include "telluride/daemon/daemon_probe.hpp"
#include "telluride/daemon/durable_state.hpp"
#include "telluride/daemon/http_api.hpp"
#include "telluride/daemon/layout_change.hpp"
#include "telluride/daemon/live_feed.hpp"
#include "telluride/daemon/part_supervisor.hpp"
#include "telluride/daemon/readings_intake.hpp"
#include "telluride/daemon/readings_lock.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/reporter.hpp"
#include "telluride/daemon/shard_coordinator.hpp"
#include "telluride/daemon/standby.hpp"
#include "telluride/daemon/startup.hpp"
#include "telluride/domain/config_schema.hpp"
#include "telluride/http/http_server.hpp"

#include <causeway/amqp/topology_declaration.hpp>
#include <causeway/atoms.hpp>
#include <causeway/pipeline.hpp>
#include <causeway/runtime.hpp>
#include <causeway/thread_name.hpp>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

namespace telluride {

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "telluride pipeline: %s\n", message.c_str());
  return 1;
}

/// Asks the main thread to restart the daemon's parts (readings_lock.hpp): blocked like the
/// termination signals, seen only by the main thread's wait.
constexpr int restart_signal = SIGUSR2;

/// Blocks SIGINT, SIGTERM and restart_signal in this thread and every thread started after it,
/// so that only wait_for_signal sees them. Returns the termination signals.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigset_t blocked = set;
  sigaddset(&blocked, restart_signal);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  return set;
}

/// Whether SIGINT or SIGTERM came (taking it), without waiting.
bool is_signal_pending(const sigset_t& set) {
  const timespec now{0, 0};
  return sigtimedwait(&set, nullptr, &now) > 0;
}

int wait_for_signal(const sigset_t& set) {
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {}
  return signal;
}

void log_pipeline_event(const causeway::pipeline_event& e) {
  using kind = causeway::pipeline_event::kind;
  switch (e.what) {
    case kind::crashed: spdlog::error("readings pipeline generation {} failed: {}", e.generation, e.reason); break;
    case kind::restarted: spdlog::info("readings pipeline generation {} started", e.generation); break;
    case kind::started: spdlog::info("readings pipeline started"); break;
    case kind::drained: spdlog::info("readings pipeline drained"); break;
  }
}

/// The parts of a running daemon, in the order `shut_down` stops them.
struct running_parts {
  caf::actor config_handler;  ///< its part supervisor
  caf::actor forwarder;       ///< K > 1: the control forwarder's part supervisor
  causeway::pipeline* readings = nullptr;
  std::shared_ptr<readings_intake> intake;
  caf::actor reporter;        ///< its part supervisor
  std::shared_ptr<outputs> out;
  http::http_server* server = nullptr;
  live_feed* live = nullptr;
  std::shared_ptr<durable_state> durable;  ///< null in memory mode
  std::unique_ptr<shard_coordinator> shards;  ///< null with shards 1
};

void stop_part(caf::actor_system& system, const caf::actor& part) {
  caf::scoped_actor self{system};
  self->request(part, caf::infinite, shutdown_atom::value).receive([](bool) {}, [](caf::error&) {});
}

/// The daemon's one shutdown sequence, whatever ends it (a signal, a failed start):
///   0. with K > 1 shards the shard coordinator stops: no rebalance starts after it;
///   1. the config handler stops: no reconfiguration starts after it (one in progress ends);
///      with K > 1 the control forwarder stops before it (what it forwarded is confirmed and
///      acknowledged; what it took and did not forward goes back to the control queue);
///   2. the readings pipeline stops consuming and drains: everything it took is processed and
///      acknowledged; then it stops (in durable mode, a last checkpoint round runs after the
///      drain and before the readings channels close, so those acknowledgements reach the
///      broker); the checkpoint writer ends;
///      with K > 1 each shard held gets its release record (others take it without waiting for
///      this node's heartbeat to lapse);
///   3. the reporter publishes one last round (aggregates, metrics, stats) and stops;
///   4. the outputs get up to 10 s for the broker's confirms;
///   5. the live feed stops and the HTTP server closes (it answered /readyz 503, and the feed
///      showed the daemon not ready, from step 2 on).
causeway::drain_report shut_down(caf::actor_system& system, running_parts& parts,
                                 const std::function<void()>& after_drain = {}) {
  if (parts.shards)
    parts.shards->stop();
  if (parts.forwarder)
    stop_part(system, parts.forwarder);
  stop_part(system, parts.config_handler);
  parts.intake->set_consuming(false);
  auto drained = parts.readings->drain();
  parts.readings->stop();
  if (after_drain)
    after_drain();  // nothing is applied from here on, and the shards are still held
  if (parts.shards)
    parts.shards->release_all();
  if (parts.durable)
    parts.durable->stop();
  stop_part(system, parts.reporter);
  if (!parts.out->wait_confirmed(std::chrono::seconds(10)))
    spdlog::warn("some outputs were not confirmed by the broker before exit");
  parts.live->stop();
  parts.server->stop();
  return drained;
}

/// Drains the readings pipeline and starts it on the intake's current shards (as a
/// reconfiguration does, with the current config); false when the supervisor refused or is gone.
bool restart_readings(caf::actor_system& system, const caf::actor& supervisor, const config_store& config,
                      readings_intake& intake) {
  const auto cfg = config.current().first;
  auto options = readings_pipeline_options(cfg, intake);
  bool ok = false;
  intake.set_consuming(false);
  caf::scoped_actor self{system};
  self->request(supervisor, caf::infinite, causeway::restart_atom::value, std::move(options))
    .receive([&](causeway::restart_result& result) { ok = result.ok; },
             [](caf::error& e) { spdlog::error("readings pipeline supervisor is gone: {}", to_string(e)); });
  intake.set_consuming(true);
  return ok;
}

/// What outlives one life of the daemon's parts: the process's throughput totals and stage
/// metrics.
struct process_parts {
  std::int64_t started_ms = now_ms();
  std::shared_ptr<throughput> totals = std::make_shared<throughput>();
  std::shared_ptr<node_metrics> stages = std::make_shared<node_metrics>();
};

/// What the state held as a life ended after a lost connection (durable mode, shards 1): the
/// next life restores the last confirmed checkpoint, and applies again what that misses.
struct state_at_loss {
  std::uint64_t total_reads = 0;  ///< sensor_tracker::total_reads as the life ended
  std::uint64_t failed_held = 0;  ///< failed readings the gate never let through
  /// Shards > 1: sensor_tracker::total_reads_in of every slot after the drain, before the
  /// shards were given up (durable_state::count_once_again).
  std::vector<std::uint64_t> shard_reads;
};

/// How one life of the daemon's parts ended.
struct life_end {
  int code = 0;
  /// Restart the parts with `next` (the configuration in effect): the readings lock went with
  /// a lost connection, and the state is restored before anything is consumed again.
  bool restart = false;
  config next;
  std::shared_ptr<const earlier_lives> counted;  ///< what every life so far counted
  std::optional<state_at_loss> at_loss;           ///< shards 1, after a lost connection
};

life_end serve(const daemon_options& options, const config& start_with, const sigset_t& signals,
               const process_parts& process, std::shared_ptr<const earlier_lives> earlier,
               std::optional<state_at_loss> at_loss);


} // namespace

int run_daemon(const daemon_options& options) {
  keep_large_buffers_mapped();
  auto signals = block_termination_signals();
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  auto loaded = load_daemon_config(options);
  if (!loaded)
    return fail(loaded.err().message);
  const process_parts process;
  config cfg = std::move(*loaded);
  std::shared_ptr<const earlier_lives> earlier;
  std::optional<state_at_loss> at_loss;
  for (;;) {
    auto ended = serve(options, cfg, signals, process, earlier, at_loss);
    if (!ended.restart)
      return ended.code;
    cfg = std::move(ended.next);
    earlier = std::move(ended.counted);
    at_loss = ended.at_loss;
  }
}

namespace {

life_end serve(const daemon_options& options, const config& start_with, const sigset_t& signals,
               const process_parts& process, std::shared_ptr<const earlier_lives> earlier,
               std::optional<state_at_loss> at_loss) {
  const config* cfg = &start_with;
  const auto fail = [](const std::string& message) {
    return life_end{telluride::fail(message), false, {}, nullptr, std::nullopt};
  };
  auto parts_health = std::make_shared<part_health>();
  auto totals = process.totals;
  auto stages = process.stages;
  causeway::runtime_config runtime{2};
  caf::actor_system system{runtime};

  // A layout of another number of shards is changed to this one first (durable mode), or what
  // it left in its queues is consumed first (memory mode).
  auto settled = settle_layout(layout_change_parts{*cfg, options.connect_timeout, &system, totals, stages,
                                                   parts_health, [&signals] { return is_signal_pending(signals); }});
  if (!settled)
    return fail(settled.err().message);
  if (settled->stopped) {
    spdlog::info("stopped while changing the number of shards; the next start goes on with it");
    return {};
  }
  std::shared_ptr<durable_state> durable;
  if (cfg->state == state_mode::durable)
    durable = std::make_shared<durable_state>(*cfg, parts_health);
  // The readings lock (shards 1) or a shard's lock (K > 1) went with a lost connection: in
  // durable mode the parts restart, so that the state is restored before anything is consumed.
  auto restart = std::make_shared<std::atomic<bool>>(false);
  auto request_restart = [restart, main = pthread_self()] {
    *restart = true;
    pthread_kill(main, restart_signal);
  };
  const bool restores_after_loss = durable != nullptr;
  std::shared_ptr<readings_lock> lock;
  if (cfg->shards == 1)
    lock = std::make_shared<readings_lock>(readings_lock_queue(cfg->routes.readings_queue), restores_after_loss,
                                           request_restart);
  auto broker = connect_broker(*cfg, options.connect_timeout, broker_wants{.durable = durable.get(), .lock = lock});
  if (!broker)
    return fail(broker.err().message);
  start_server starting;
  if (lock) {
    auto taken = take_readings_lock(*lock, *broker->readings->connection(), *cfg, starting,
                                    [&signals] { return is_signal_pending(signals); });
    if (!taken)
      return fail(taken.err().message);
    if (!*taken) {
      spdlog::info("stopped while standing by");
      return {};
    }
    // The restore may take seconds (docs/scaling.md): /healthz and /readyz answer meanwhile.
    starting.set_restoring();
    if (durable)
      if (auto opened = starting.open(*cfg, lock->queue()); !opened)
        return fail(opened.err().message);
  }
  const bool is_sharded = cfg->shards > 1;

  auto current_config = std::make_shared<config_store>(*cfg);
  auto out = std::make_shared<outputs>(broker->publisher, cfg->routes);
  auto alerts = std::make_shared<recent_alerts>();
  auto locks = is_sharded ? std::make_shared<shard_locks>(cfg->routes.readings_queue, restores_after_loss,
                                                         request_restart)
                          : nullptr;
  auto intake = is_sharded ? std::make_shared<readings_intake>(broker->readings, cfg->shards, locks)
                           : std::make_shared<readings_intake>(broker->readings);
  auto counters = std::make_shared<control_counters>();
  alert_rules rules;
  rules.thresholds = cfg->alert_thresholds;
  rules.alert_after = cfg->alert_after;
  const std::uint64_t max_sensors = max_sensors_bound(*cfg);
  if (cfg->max_sensors == 0)
    spdlog::info("tracking at most {} sensors (max_sensors 0: a quarter of physical memory at {} bytes per sensor)",
                 max_sensors, budget_bytes_per_sensor);
  else
    spdlog::info("tracking at most {} sensors (max_sensors)", max_sensors);
  auto tracker = make_tracker(*cfg, rules, max_sensors);
  tracker->inherit_from(settled->inherited);
  if (durable) {
    // Before the first reading is consumed.
    if (auto restored = durable->restore(base_connection(*cfg, options.connect_timeout), *tracker, rules); !restored)
      return fail(restored.err().message);
    if (at_loss && !is_sharded)
      count_reapplied_once(*totals, at_loss->total_reads, tracker->total_reads(), at_loss->failed_held, "the state");
    if (at_loss && is_sharded)
      durable->count_once_again(totals, at_loss->shard_reads);
    durable->start_writing(tracker, current_config);
  }
  auto status = std::make_shared<const daemon_probe>(
    probe_sources{process.started_ms, current_config, counters, intake, parts_health, totals, tracker, stages, out,
                  durable, std::move(earlier)});

  auto spec =
    readings_pipeline_spec(*cfg, *intake, std::make_shared<reading_handler>(tracker, totals, out, alerts), stages);
  spec.on_event = log_pipeline_event;
  auto started = causeway::pipeline::start(system, std::move(spec));
  if (!started)
    return fail(started.err().message);
  auto readings_pipeline = std::move(*started);
  intake->set_consuming(true);

  // The config handler and the reporter run under part supervisors: restarted if they stop,
  // and /readyz names them meanwhile.
  auto config_handler = std::make_shared<actor_slot>();
  config_actor_parts config_parts{current_config, intake, readings_pipeline.supervisor(), out, counters};
  auto control_queue = broker->control;
  auto config = system.spawn<part_supervisor>(part_spec{
    "config handler",
    [config_parts, control_queue](caf::actor_system& sys) {
      return sys.spawn<config_actor>(config_parts, std::make_unique<control_source>(control_queue));
    },
    parts_health, config_handler});
  caf::actor forwarder;
  if (broker->forwarded_control) {
    auto forwarded = broker->forwarded_control;
    control_forwarder_parts forwarder_parts{broker->publisher, control_nodes_exchange(cfg->routes), out, counters};
    forwarder = system.spawn<part_supervisor>(part_spec{
      "control forwarder",
      [forwarded, forwarder_parts](caf::actor_system& sys) {
        return sys.spawn<control_forwarder>(forwarder_parts, std::make_unique<control_source>(forwarded));
      },
      parts_health, nullptr});
  }
  std::string stats_error;
  std::shared_ptr<shared_stats_writer> stats = shared_stats_writer::create(stats_error);
  if (!stats)
    spdlog::warn("telluride stats will not see this daemon: {}", stats_error);
  reporter_parts report_parts{cfg->aggregate_interval, cfg->metrics_interval, tracker, stages, totals, out, status, stats};
  auto report = system.spawn<part_supervisor>(part_spec{
    "reporter", [report_parts](caf::actor_system& sys) { return sys.spawn<reporter>(report_parts); }, parts_health,
    nullptr});

  http::server_options http_options;
  http_options.listen = to_string(cfg->http_listen);
  auto board = std::make_shared<shard_board>();
  board->publish(shard_board_view{cfg->node_name, cfg->shards, {}, {}});  // K > 1: the coordinator fills it
  auto live_events = std::make_shared<http::event_feed>();
  live_feed live{live_feed_parts{status, stages, current_config, board, alerts, live_events}};
  http::http_server server{http_options, make_http_api(system, http_api_parts{status, current_config, tracker,
                                                                              readings_pipeline.supervisor(),
                                                                              config_handler, board, live_events})};
  running_parts running{config, forwarder, &readings_pipeline, intake, report, out, &server, &live, durable, nullptr};
  if (is_sharded) {
    auto coordinator = shard_coordinator::start(shard_coordinator_parts{
      *cfg, base_connection(*cfg, options.connect_timeout), broker->publisher, durable, tracker, intake, locks, rules,
      board,
      [&system, supervisor = readings_pipeline.supervisor(), current_config, intake] {
        return restart_readings(system, supervisor, *current_config, *intake);
      }});
    if (!coordinator) {
      shut_down(system, running);
      return fail(coordinator.err().message);
    }
    running.shards = std::move(*coordinator);
  }
  if (auto err = server.start(starting.hand_over())) {
    shut_down(system, running);
    return fail(err->message);
  }
  spdlog::info("node {}: consuming {} on {}; state {}; HTTP on http://{}/", cfg->node_name,
               is_sharded ? "the shards the membership gives it of " + std::to_string(cfg->shards)
                          : cfg->routes.readings_queue,
               mask_password(cfg->amqp_url),
               durable ? "durable (checkpoints to the stream " + cfg->state_stream + ")" : std::string("in memory"),
               http_options.listen);

  sigset_t awaited = signals;
  sigaddset(&awaited, restart_signal);
  int signal = 0;
  do
    signal = wait_for_signal(awaited);
  while (signal == restart_signal && !*restart);
  if (signal == restart_signal) {
    spdlog::warn("node {}: the readings connection was lost, and its lock{} with it: another daemon may have "
                 "consumed meanwhile; draining, then restoring the state from {} before consuming again",
                 cfg->node_name, is_sharded ? "s" : " " + lock->queue(), cfg->state_stream);
    std::vector<std::uint64_t> shard_reads;
    shut_down(system, running, [&] {
      if (is_sharded)
        for (std::size_t s = 0; s < tracker->shard_count(); ++s)
          shard_reads.push_back(tracker->total_reads_in(s));
    });
    std::optional<state_at_loss> state;
    if (!is_sharded && durable)
      state = state_at_loss{tracker->total_reads(), durable->held_failed(), {}};
    if (is_sharded && durable)
      state = state_at_loss{0, 0, std::move(shard_reads)};
    return life_end{0, true, current_config->current().first,
                    std::make_shared<const earlier_lives>(earlier_lives{status->take(now_ms())}), state};
  }
  spdlog::info("{} received: draining (a second signal exits at once)", signal == SIGINT ? "SIGINT" : "SIGTERM");
  std::thread impatient{[signals] {
    causeway::name_this_thread("second-signal");
    auto second = wait_for_signal(signals);
    std::fprintf(stderr, "telluride pipeline: second signal, exiting without draining\n");
    std::_Exit(128 + second);
  }};
  impatient.detach();

  auto drained = shut_down(system, running);
  auto finished = totals->peek();
  spdlog::info("drained {} readings in {} ms; {} readings since start ({} failed)", drained.messages,
               drained.duration.count(), finished.total_message_count, finished.total_failed_count);
  return {};
}

} // namespace

} // namespace telluride
