#include "telluride/daemon/daemon.hpp"

#include "telluride/cli/commands.hpp"
#include "telluride/daemon/config_actor.hpp"
#include "telluride/daemon/daemon_state.hpp"
#include "telluride/daemon/http_api.hpp"
#include "telluride/daemon/part_supervisor.hpp"
#include "telluride/daemon/pipeline_shape.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/reporter.hpp"
#include "telluride/daemon/startup.hpp"
#include "telluride/domain/config_schema.hpp"
#include "telluride/http/http_server.hpp"

#include <causeway/atoms.hpp>
#include <causeway/pipeline.hpp>
#include <causeway/runtime.hpp>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace telluride {

namespace {

constexpr std::size_t tracker_shards = 16;

int fail(const std::string& message) {
  std::fprintf(stderr, "telluride pipeline: %s\n", message.c_str());
  return 1;
}

/// Blocks SIGINT and SIGTERM in this thread and every thread started after it, so that only
/// wait_for_signal sees them.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
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

} // namespace

int run_daemon(const daemon_options& options) {
  auto signals = block_termination_signals();
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  auto cfg = load_daemon_config(options);
  if (!cfg)
    return fail(cfg.err().message);
  auto broker = connect_broker(*cfg, options.connect_timeout);
  if (!broker)
    return fail(broker.err().message);

  auto state = std::make_shared<daemon_state>();
  state->set_current(*cfg, 0);
  state->started_ms = now_ms();
  state->out = std::make_shared<outputs>(broker->publisher, cfg->routes);
  state->totals = std::make_shared<throughput>();
  state->nodes = std::make_shared<node_metrics>();
  state->readings = std::make_shared<source_switch>(broker->readings);
  state->control = broker->control;
  alert_rules rules;
  rules.thresholds = cfg->alert_thresholds;
  rules.alert_after = cfg->alert_after;
  const std::uint64_t max_sensors = max_sensors_bound(*cfg);
  if (cfg->max_sensors == 0)
    spdlog::info("tracking at most {} sensors (max_sensors 0: a quarter of physical memory at {} bytes per sensor)",
                 max_sensors, budget_bytes_per_sensor);
  else
    spdlog::info("tracking at most {} sensors (max_sensors)", max_sensors);
  state->tracker = std::make_shared<sensor_tracker>(tracker_shards, rules, message_id_capacity(*cfg), max_sensors);

  causeway::runtime_config runtime{2};
  caf::actor_system system{runtime};
  causeway::pipeline_spec spec;
  spec.options = make_pipeline_options(*cfg);
  spec.handler = std::make_shared<reading_handler>(state->tracker, state->totals, state->out);
  spec.make_producer = state->readings->factory();
  spec.telemetry = state->nodes;
  spec.on_event = log_pipeline_event;
  auto started = causeway::pipeline::start(system, std::move(spec));
  if (!started)
    return fail(started.err().message);
  auto readings_pipeline = std::move(*started);
  state->supervisor = readings_pipeline.supervisor();
  state->consuming = true;

  // The config handler and the reporter run under part supervisors: restarted if they stop,
  // and /readyz names them meanwhile.
  auto health = std::shared_ptr<part_health>(state, &state->parts);
  auto config_handler = std::make_shared<actor_slot>();
  auto config = system.spawn<part_supervisor>(part_spec{
    "config handler", [state](caf::actor_system& sys) { return sys.spawn<config_actor>(state); }, health,
    config_handler});
  std::string stats_error;
  std::shared_ptr<shared_stats_writer> stats = shared_stats_writer::create(stats_error);
  if (!stats)
    spdlog::warn("telluride stats will not see this daemon: {}", stats_error);
  auto report = system.spawn<part_supervisor>(part_spec{
    "reporter", [state, stats](caf::actor_system& sys) { return sys.spawn<reporter>(state, stats); }, health,
    nullptr});

  http::server_options http_options;
  http_options.listen = to_string(cfg->http_listen);
  http::http_server server{http_options, make_http_api(system, state, config_handler)};
  if (auto err = server.start()) {
    caf::scoped_actor self{system};
    self->request(config, caf::infinite, shutdown_atom::value).receive([](bool) {}, [](caf::error&) {});
    readings_pipeline.stop();
    self->request(report, caf::infinite, shutdown_atom::value).receive([](bool) {}, [](caf::error&) {});
    return fail(err->message);
  }
  spdlog::info("consuming {} on {}; HTTP on http://{}/", cfg->routes.readings_queue,
               mask_password(cfg->amqp_url), http_options.listen);

  auto signal = wait_for_signal(signals);
  spdlog::info("{} received: draining (a second signal exits at once)", signal == SIGINT ? "SIGINT" : "SIGTERM");
  std::thread impatient{[signals] {
    auto second = wait_for_signal(signals);
    std::fprintf(stderr, "telluride pipeline: second signal, exiting without draining\n");
    std::_Exit(128 + second);
  }};
  impatient.detach();

  caf::scoped_actor self{system};
  self->request(config, caf::infinite, shutdown_atom::value).receive([](bool) {}, [](caf::error&) {});
  state->consuming = false;
  auto drained = readings_pipeline.drain();
  readings_pipeline.stop();
  self->request(report, caf::infinite, shutdown_atom::value).receive([](bool) {}, [](caf::error&) {});
  if (!state->out->wait_confirmed(std::chrono::seconds(10)))
    spdlog::warn("some outputs were not confirmed by the broker before exit");
  server.stop();
  spdlog::info("drained {} readings in {} ms; {} readings since start ({} failed)", drained.messages,
               drained.duration.count(), state->totals->peek().total_message_count,
               state->totals->peek().total_failed_count);
  return 0;
}

} // namespace telluride
