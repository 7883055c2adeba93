#include "causeway/topology/supervisor.hpp"

#include "causeway/detail/overloaded.hpp"

#include "causeway/topology/batch_processor_stage.hpp"
#include "causeway/topology/batcher_stage.hpp"
#include "causeway/topology/messages.hpp"
#include "causeway/topology/processor_stage.hpp"
#include "causeway/topology/producer_stage.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include <exception>
#include <type_traits>
#include <variant>

namespace causeway::topology {

namespace {

// Timers the supervisor sends itself. Each atom's text is its own: CAF 0.17 atoms with the same
// text are the same type, and the public restart_atom is "cw_restart".
using drain_timeout_atom = caf::atom_constant<caf::atom("cw_drainto")>;
using restart_timer_atom = caf::atom_constant<caf::atom("cw_rstimer")>;
static_assert(!std::is_same_v<restart_timer_atom, restart_atom>);

bool is_normal(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal;
}

} // namespace

supervisor::supervisor(caf::actor_config& cfg, pipeline_spec spec)
  : caf::event_based_actor(cfg),
    spec_(std::move(spec)),
    limiter_(std::make_shared<detail::shared_rate_limiter>(spec_.options.producer.rate_limit)) {
  if (caf::get_or(system().config(), "scheduler.policy", caf::atom("stealing")) != caf::atom("testing"))
    timers_ = std::make_shared<detail::timer_service>();
}

caf::behavior supervisor::make_behavior() {
  set_down_handler([this](caf::down_msg& down) { on_down(down); });
  apply(lifecycle_.start(clock().now()));
  return {
    [this](drain_atom) { on_drain(make_response_promise()); },
    [this](restart_atom, pipeline_options& options) {
      on_restart(options, make_response_promise());
    },
    [this](rate_atom, const rate_limit_options& limit) { on_rate(limit); },
    [this](topology_atom) { return snapshot(); },
    [this](stop_atom) { on_stop(make_response_promise()); },
    [this](drain_timeout_atom, std::uint64_t generation) { on_drain_timeout(generation); },
    [this](restart_timer_atom, std::uint64_t generation) {
      apply(lifecycle_.on_restart_timer(generation, clock().now()));
    },
  };
}

void supervisor::on_exit() {
  producers_.clear();
  stages_.clear();
  plan_.reset();
  spec_ = pipeline_spec{};
  limiter_.reset();
  waiters_.clear();
}

void supervisor::on_drain(caf::response_promise promise) {
  waiters_.push_back({waiter::request::drain, std::move(promise)});
  apply(lifecycle_.on_drain(mark_now()));
}

void supervisor::on_restart(pipeline_options& options, caf::response_promise promise) {
  if (auto valid = validate(options); !valid) {
    promise.deliver(restart_result{false, valid.err().message, {}});
    return;
  }
  waiters_.push_back({waiter::request::restart, std::move(promise)});
  apply(lifecycle_.on_restart(std::move(options), mark_now()));
}

void supervisor::on_stop(caf::response_promise promise) {
  waiters_.push_back({waiter::request::stop, std::move(promise)});
  apply(lifecycle_.on_stop(mark_now()));
}

void supervisor::on_rate(const rate_limit_options& limit) {
  spec_.options.producer.rate_limit = limit;
  limiter_->update(limit);
}

void supervisor::on_drain_timeout(std::uint64_t generation) {
  apply(lifecycle_.on_drain_timeout(generation, plan_->options.shutdown_timeout));
  if (live_.empty())
    apply(lifecycle_.on_stages_gone(mark_now()));
}

void supervisor::on_down(const caf::down_msg& down) {
  if (live_.erase(down.source) == 0)
    return;  // a stage of an older generation
  if (!is_normal(down.reason))
    apply(lifecycle_.on_stage_failed(to_string(down.reason)));
  if (live_.empty())
    apply(lifecycle_.on_stages_gone(mark_now()));
}

void supervisor::apply(supervisor_effects effects) {
  for (auto& effect : effects)
    execute(effect);
}

void supervisor::execute(supervisor_effect& effect) {
  std::visit(detail::overloaded{
               [this](topology::start_generation&) { start_generation(); },
               [this](topology::drain_stages& d) { drain_stages(d.generation); },
               [this](topology::kill_stages&) { kill_stages(); },
               [this](topology::fail_in_flight& f) { fail_in_flight(f.reason); },
               [this](topology::release_producers&) { release_producers(); },
               [this](topology::arm_restart_timer& a) {
                 delayed_send(this, a.delay, restart_timer_atom::value, a.generation);
               },
               [this](topology::announce& a) {
                 if (spec_.on_event)
                   spec_.on_event(a.event);
               },
               [this](topology::adopt_options& a) { adopt_options(a.options); },
               [this](topology::answer_waiters& a) { answer_waiters(a.report); },
               [this](topology::quit&) { this->quit(); },
             },
             effect);
}

// A generation starts in three steps: its producers (which may fail: the lifecycle then
// schedules a retry), its stages by kind, downstream first, and the subscriptions between them.
void supervisor::start_generation() {
  auto p = std::make_shared<plan>();
  p->options = spec_.options;
  p->handler = spec_.handler;
  p->telemetry = spec_.telemetry;
  p->limiter = limiter_;
  p->timers = timers_;
  plan_ = p;
  stages_.clear();
  if (auto created = create_producers(); !created) {
    apply(lifecycle_.on_start_failed(clock().now(), created.err().message));
    return;
  }
  wire(spawn_stages());
  apply(lifecycle_.on_started());
}

expected<void> supervisor::create_producers() {
  producers_.clear();
  try {
    for (std::size_t i = 0; i < plan_->options.producer.concurrency; ++i)
      producers_.push_back(spec_.make_producer(i));
  } catch (const std::exception& e) {
    producers_.clear();
    return causeway::error{e.what()};
  }
  return {};
}

template <class Stage, class... Args>
caf::actor supervisor::spawn_stage(stage_kind kind, const std::string& name, std::size_t index,
                                   Args&&... args) {
  auto counters = std::make_shared<stage_counters>();
  counters->kind = kind;
  counters->name = name;
  counters->index = index;
  auto actor = spawn<Stage>(plan_, std::forward<Args>(args)..., counters);
  monitor(actor);
  live_.insert(actor.address());
  stages_.push_back({std::move(counters), actor});
  return actor;
}

// Downstream first, so every stage is born knowing where it sends.
supervisor::generation_stages supervisor::spawn_stages() {
  const auto& o = plan_->options;
  generation_stages g;
  g.batch_processors.resize(o.batchers.size());
  for (std::size_t b = 0; b < o.batchers.size(); ++b) {
    const auto& name = o.batchers[b].name;
    for (std::size_t i = 0; i < o.batchers[b].concurrency; ++i)
      g.batch_processors[b].push_back(
        spawn_stage<batch_processor_stage>(stage_kind::batch_processor, name, i, b, i));
    g.batchers.push_back(
      spawn_stage<batcher_stage>(stage_kind::batcher, name, 0, b, g.batch_processors[b]));
  }
  for (std::size_t i = 0; i < o.processors.concurrency; ++i)
    g.processors.push_back(spawn_stage<processor_stage>(stage_kind::processor, o.processors.name,
                                                        i, i, g.batchers));
  for (std::size_t i = 0; i < producers_.size(); ++i)
    g.producer_stages.push_back(spawn_stage<producer_stage>(stage_kind::producer, "default", i, i,
                                                            producers_[i], g.processors));
  return g;
}

// Each consumer learns its upstream and starts asking.
void supervisor::wire(const generation_stages& g) {
  for (std::size_t b = 0; b < g.batchers.size(); ++b) {
    for (const auto& bp : g.batch_processors[b])
      send(bp, subscribe_atom::value, g.batchers[b]);
    send(g.batchers[b], subscribe_atom::value, g.processors);
  }
  for (const auto& processor : g.processors)
    send(processor, subscribe_atom::value, g.producer_stages);
}

void supervisor::drain_stages(std::uint64_t generation) {
  for (const auto& stage : stages_)
    if (stage.counters->kind == stage_kind::producer)
      send(stage.actor, drain_atom::value);
  delayed_send(this, plan_->options.shutdown_timeout, drain_timeout_atom::value, generation);
}

void supervisor::kill_stages() {
  for (const auto& stage : stages_)
    if (live_.count(stage.actor.address()) > 0)
      send_exit(stage.actor, caf::exit_reason::kill);
}

void supervisor::fail_in_flight(const std::string& reason) {
  for (auto& source : producers_)
    source->fail_in_flight(reason);
}

void supervisor::release_producers() {
  for (auto& source : producers_)
    source->stop();
  producers_.clear();
  stages_.clear();
}

void supervisor::adopt_options(pipeline_options& options) {
  spec_.options = std::move(options);
  limiter_->update(spec_.options.producer.rate_limit);
}

void supervisor::answer_waiters(const drain_report& report) {
  auto waiting = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiting) {
    if (w.kind == waiter::request::restart)
      w.promise.deliver(restart_result{true, {}, report});
    else
      w.promise.deliver(report);
  }
}

progress_mark supervisor::mark_now() {
  return {clock().now(), plan_ != nullptr ? plan_->acknowledged.load() : 0};
}

std::vector<stage_info> supervisor::snapshot() const {
  std::vector<stage_info> out;
  out.reserve(stages_.size());
  for (const auto& [s, actor] : stages_)
    out.push_back({s->kind, s->name, s->index, s->received.load(std::memory_order_relaxed),
                   s->in_flight.load(std::memory_order_relaxed),
                   s->outstanding_demand.load(std::memory_order_relaxed), actor});
  return out;
}

} // namespace causeway::topology
