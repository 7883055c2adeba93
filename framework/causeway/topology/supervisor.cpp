#include "causeway/topology/supervisor.hpp"

#include "causeway/detail/declared_names.hpp"

#include "causeway/topology/batch_processor_stage.hpp"
#include "causeway/topology/batcher_stage.hpp"
#include "causeway/topology/messages.hpp"
#include "causeway/topology/processor_stage.hpp"
#include "causeway/topology/producer_stage.hpp"

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <exception>
#include <type_traits>

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
    limiter_(std::make_shared<detail::shared_rate_limiter>(spec_.options.producer.rate_limit)) {}

caf::behavior supervisor::make_behavior() {
  set_down_handler([this](caf::down_msg& down) { on_down(down); });
  start_topology();
  return {
    [this](drain_atom) { on_drain(make_response_promise()); },
    [this](restart_atom, pipeline_options& options) {
      on_restart(options, make_response_promise());
    },
    [this](rate_atom, const rate_limit_options& limit) {
      spec_.options.producer.rate_limit = limit;
      limiter_->update(limit);
    },
    [this](topology_atom) { return snapshot(); },
    [this](stop_atom) { on_stop(make_response_promise()); },
    [this](drain_timeout_atom, std::uint64_t generation) { on_drain_timeout(generation); },
    [this](restart_timer_atom, std::uint64_t generation) {
      if (generation == generation_ && phase_ == phase::idle && restart_pending_)
        start_topology();
    },
  };
}

void supervisor::on_exit() {
  producers_.clear();
  stages_.clear();
  plan_.reset();
  spec_ = pipeline_spec{};
  limiter_.reset();
}

void supervisor::start_topology() {
  ++generation_;
  restart_pending_ = false;
  backoff_.started(std::chrono::steady_clock::now());
  auto p = std::make_shared<plan>();
  p->options = spec_.options;
  p->handler = spec_.handler;
  p->telemetry = spec_.telemetry;
  p->limiter = limiter_;
  plan_ = p;
  stages_.clear();
  producers_.clear();
  const auto& o = p->options;
  for (const auto& b : o.batchers)
    detail::declare_name(b.name);  // messages routed there point at one copy of the name
  try {
    for (std::size_t i = 0; i < o.producer.concurrency; ++i)
      producers_.push_back(spec_.make_producer(i));
  } catch (const std::exception& e) {
    producers_.clear();
    phase_ = phase::idle;
    auto delay = next_restart_delay();
    emit(pipeline_event::kind::crashed, std::string{"cannot create producer: "} + e.what() +
                                          "; retrying in " + std::to_string(delay.count()) + " ms");
    schedule_restart(delay);
    return;
  }
  auto counters = [](stage_kind kind, const std::string& name, std::size_t index) {
    auto c = std::make_shared<stage_counters>();
    c->kind = kind;
    c->name = name;
    c->index = index;
    return c;
  };
  auto track = [this](caf::actor a, std::shared_ptr<stage_counters> c) {
    monitor(a);
    live_.insert(a.address());
    stages_.push_back({std::move(c), a});
    return a;
  };
  // Downstream first, so every stage is born knowing where it sends.
  std::vector<std::vector<caf::actor>> batch_processors(o.batchers.size());
  std::vector<caf::actor> batchers;
  for (std::size_t b = 0; b < o.batchers.size(); ++b) {
    for (std::size_t i = 0; i < o.batchers[b].concurrency; ++i) {
      auto c = counters(stage_kind::batch_processor, o.batchers[b].name, i);
      batch_processors[b].push_back(track(spawn<batch_processor_stage>(p, b, i, c), c));
    }
    auto c = counters(stage_kind::batcher, o.batchers[b].name, 0);
    batchers.push_back(track(spawn<batcher_stage>(p, b, batch_processors[b], c), c));
  }
  std::vector<caf::actor> processors;
  for (std::size_t i = 0; i < o.processors.concurrency; ++i) {
    auto c = counters(stage_kind::processor, o.processors.name, i);
    processors.push_back(track(spawn<processor_stage>(p, i, batchers, c), c));
  }
  std::vector<caf::actor> producer_stages;
  for (std::size_t i = 0; i < producers_.size(); ++i) {
    auto c = counters(stage_kind::producer, "default", i);
    producer_stages.push_back(track(spawn<producer_stage>(p, i, producers_[i], processors, c), c));
  }
  for (std::size_t b = 0; b < batchers.size(); ++b) {
    for (auto& bp : batch_processors[b])
      send(bp, subscribe_atom::value, batchers[b]);
    send(batchers[b], subscribe_atom::value, processors);
  }
  for (auto& processor : processors)
    send(processor, subscribe_atom::value, producer_stages);
  phase_ = phase::running;
  emit(has_run_ ? pipeline_event::kind::restarted : pipeline_event::kind::started);
  has_run_ = true;
}

void supervisor::on_drain(caf::response_promise promise) {
  if (phase_ == phase::idle) {
    restart_pending_ = false;  // drained: a crashed generation waiting for its restart stays down
    promise.deliver(drain_report{});
    return;
  }
  drain_waiters_.push_back(std::move(promise));
  if (phase_ != phase::running)
    return;  // a drain or teardown is under way; its end answers this request too
  phase_ = phase::draining;
  drain_started_ = std::chrono::steady_clock::now();
  acknowledged_at_drain_ = plan_->acknowledged.load();
  for (const auto& stage : stages_)
    if (stage.counters->kind == stage_kind::producer)
      send(stage.actor, drain_atom::value);
  delayed_send(this, plan_->options.shutdown_timeout, drain_timeout_atom::value, generation_);
}

void supervisor::on_restart(pipeline_options& options, caf::response_promise promise) {
  if (auto valid = validate(options); !valid) {
    promise.deliver(restart_result{false, valid.err().message, {}});
    return;
  }
  restart_with_ = std::move(options);
  restart_waiters_.push_back(std::move(promise));
  if (phase_ == phase::idle) {
    finish_drain(false);
    return;
  }
  if (phase_ == phase::running)
    on_drain(caf::response_promise{});
}

void supervisor::on_stop(caf::response_promise promise) {
  stop_after_drain_ = true;
  stop_waiters_.push_back(std::move(promise));
  if (phase_ == phase::idle)
    finish_drain(false);
  else if (phase_ == phase::running)
    on_drain(caf::response_promise{});
}

void supervisor::on_down(const caf::down_msg& down) {
  if (live_.erase(down.source) == 0)
    return;  // a stage of an older generation
  if (!is_normal(down.reason) && phase_ != phase::tearing_down) {
    teardown_while_draining_ = phase_ == phase::draining;
    tear_down("stage exited: " + to_string(down.reason));
    return;
  }
  if (!live_.empty())
    return;
  if (phase_ == phase::tearing_down)
    finish_teardown();
  else if (phase_ == phase::draining)
    finish_drain(false);
}

void supervisor::on_drain_timeout(std::uint64_t generation) {
  if (generation != generation_ || phase_ != phase::draining)
    return;
  teardown_while_draining_ = true;
  last_drain_.timed_out = true;
  tear_down("shutdown timeout of " + std::to_string(plan_->options.shutdown_timeout.count()) +
            " ms passed while draining");
}

void supervisor::tear_down(std::string reason) {
  phase_ = phase::tearing_down;
  teardown_reason_ = std::move(reason);
  for (const auto& stage : stages_)
    if (live_.count(stage.actor.address()) > 0)
      send_exit(stage.actor, caf::exit_reason::kill);
  if (live_.empty())
    finish_teardown();
}

void supervisor::finish_teardown() {
  for (auto& source : producers_) {
    source->fail_in_flight(teardown_reason_);
    source->stop();
  }
  producers_.clear();
  if (teardown_while_draining_ || !drain_waiters_.empty() || stop_after_drain_ || restart_with_) {
    emit(pipeline_event::kind::crashed, teardown_reason_);
    teardown_while_draining_ = false;
    finish_drain(last_drain_.timed_out);
    return;
  }
  auto delay = next_restart_delay();
  if (delay.count() == 0) {
    emit(pipeline_event::kind::crashed, teardown_reason_);
    start_topology();
    return;
  }
  emit(pipeline_event::kind::crashed,
       teardown_reason_ + "; restarting in " + std::to_string(delay.count()) + " ms");
  phase_ = phase::idle;
  stages_.clear();
  schedule_restart(delay);
}

std::chrono::milliseconds supervisor::next_restart_delay() {
  return backoff_.failed(std::chrono::steady_clock::now());
}

void supervisor::schedule_restart(std::chrono::milliseconds delay) {
  restart_pending_ = true;
  delayed_send(this, delay, restart_timer_atom::value, generation_);
}

void supervisor::finish_drain(bool timed_out) {
  for (auto& source : producers_)
    source->stop();
  producers_.clear();
  drain_report report;
  if (plan_ != nullptr && phase_ != phase::idle) {
    report.messages = plan_->acknowledged.load() - acknowledged_at_drain_;
    report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - drain_started_);
  }
  report.timed_out = timed_out;
  last_drain_ = {};
  bool was_running = phase_ != phase::idle;
  phase_ = phase::idle;
  stages_.clear();
  if (was_running)
    emit(pipeline_event::kind::drained, timed_out ? teardown_reason_ : std::string{});
  for (auto& waiter : drain_waiters_)
    if (waiter.pending())
      waiter.deliver(report);
  drain_waiters_.clear();
  if (restart_with_) {
    spec_.options = std::move(*restart_with_);
    restart_with_.reset();
    limiter_->update(spec_.options.producer.rate_limit);
    if (!stop_after_drain_)
      start_topology();
    for (auto& waiter : restart_waiters_)
      waiter.deliver(restart_result{true, {}, report});
    restart_waiters_.clear();
  }
  if (stop_after_drain_) {
    for (auto& waiter : stop_waiters_)
      waiter.deliver(report);
    stop_waiters_.clear();
    quit();
  }
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

void supervisor::emit(pipeline_event::kind what, std::string reason) {
  if (spec_.on_event)
    spec_.on_event(pipeline_event{what, generation_, std::move(reason)});
}

} // namespace causeway::topology
