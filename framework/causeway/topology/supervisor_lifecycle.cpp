#include "causeway/topology/supervisor_lifecycle.hpp"

#include "causeway/detail/overloaded.hpp"

#include <utility>

namespace causeway::topology {

namespace {

/// A request made while a drain is under way: a drain adds nothing, a stop outranks all.
after_drain combine(after_drain current, after_drain incoming) {
  if (std::holds_alternative<then_idle>(incoming) || std::holds_alternative<then_stop>(current))
    return current;
  return incoming;
}

drain_report report_between(const progress_mark& start, const progress_mark& end, bool timed_out) {
  drain_report report;
  report.messages = end.acknowledged - start.acknowledged;
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(end.at - start.at);
  report.timed_out = timed_out;
  return report;
}

} // namespace

std::string_view name_of(const supervisor_phase& phase) noexcept {
  return std::visit(detail::overloaded{
                      [](const idle&) { return std::string_view{"idle"}; },
                      [](const running&) { return std::string_view{"running"}; },
                      [](const draining&) { return std::string_view{"draining"}; },
                      [](const tearing_down&) { return std::string_view{"tearing_down"}; },
                      [](const aborting_drain&) { return std::string_view{"aborting_drain"}; },
                      [](const waiting_to_restart&) { return std::string_view{"waiting_to_restart"}; },
                      [](const stopped&) { return std::string_view{"stopped"}; },
                    },
                    phase);
}

supervisor_effects supervisor_lifecycle::start(lifecycle_clock::time_point now) {
  supervisor_effects out;
  if (std::holds_alternative<idle>(phase_) && generation_ == 0)
    begin(now, out);
  return out;
}

supervisor_effects supervisor_lifecycle::on_started() {
  if (!std::holds_alternative<running>(phase_))
    return {};
  auto what = has_run_ ? pipeline_event::kind::restarted : pipeline_event::kind::started;
  has_run_ = true;
  return {event(what)};
}

supervisor_effects supervisor_lifecycle::on_start_failed(lifecycle_clock::time_point now,
                                                         std::string_view what) {
  if (!std::holds_alternative<running>(phase_))
    return {};
  auto delay = backoff_.failed(now);
  phase_ = waiting_to_restart{};
  return {event(pipeline_event::kind::crashed, "cannot create producer: " + std::string{what} +
                                                 "; retrying in " + std::to_string(delay.count()) +
                                                 " ms"),
          arm_restart_timer{delay, generation_}};
}

supervisor_effects supervisor_lifecycle::on_drain(progress_mark now) {
  return on_request(then_idle{}, now);
}

supervisor_effects supervisor_lifecycle::on_restart(pipeline_options options, progress_mark now) {
  return on_request(then_restart{std::move(options)}, now);
}

supervisor_effects supervisor_lifecycle::on_stop(progress_mark now) {
  return on_request(then_stop{}, now);
}

supervisor_effects supervisor_lifecycle::on_request(after_drain then, progress_mark now) {
  supervisor_effects out;
  std::visit(detail::overloaded{
               [&](const idle&) { follow(std::move(then), drain_report{}, now, out); },
               [&](const waiting_to_restart&) { follow(std::move(then), drain_report{}, now, out); },
               [&](const running&) {
                 phase_ = draining{now, std::move(then)};
                 out.push_back(drain_stages{generation_});
               },
               [&](draining& d) { d.then = combine(std::move(d.then), std::move(then)); },
               [&](aborting_drain& a) { a.then = combine(std::move(a.then), std::move(then)); },
               [&](tearing_down& t) {
                 phase_ = aborting_drain{std::move(t.reason), now, std::move(then), cut_by::stage_failure};
               },
               [](const stopped&) {},
             },
             phase_);
  return out;
}

supervisor_effects supervisor_lifecycle::on_stage_failed(std::string_view why) {
  std::string reason = "stage exited: " + std::string{why};
  if (std::holds_alternative<running>(phase_)) {
    phase_ = tearing_down{std::move(reason)};
    return {kill_stages{}};
  }
  if (auto* d = std::get_if<draining>(&phase_)) {
    phase_ = aborting_drain{std::move(reason), d->mark, std::move(d->then), cut_by::stage_failure};
    return {kill_stages{}};
  }
  return {};  // already killing every stage, or no generation runs
}

supervisor_effects supervisor_lifecycle::on_drain_timeout(std::uint64_t generation,
                                                          std::chrono::milliseconds timeout) {
  auto* d = std::get_if<draining>(&phase_);
  if (d == nullptr || generation != generation_)
    return {};
  phase_ = aborting_drain{"shutdown timeout of " + std::to_string(timeout.count()) +
                            " ms passed while draining",
                          d->mark, std::move(d->then), cut_by::timeout};
  return {kill_stages{}};
}

supervisor_effects supervisor_lifecycle::on_restart_timer(std::uint64_t generation,
                                                          lifecycle_clock::time_point now) {
  supervisor_effects out;
  if (std::holds_alternative<waiting_to_restart>(phase_) && generation == generation_)
    begin(now, out);
  return out;
}

supervisor_effects supervisor_lifecycle::on_stages_gone(progress_mark now) {
  supervisor_effects out;
  if (auto* d = std::get_if<draining>(&phase_)) {
    auto [mark, then] = std::move(*d);
    out.push_back(release_producers{});
    finish_drain(mark, std::move(then), false, {}, now, out);
  } else if (auto* a = std::get_if<aborting_drain>(&phase_)) {
    auto [reason, mark, then, cause] = std::move(*a);
    out.push_back(fail_in_flight{reason});
    out.push_back(release_producers{});
    out.push_back(event(pipeline_event::kind::crashed, reason));
    const bool timed_out = cause == cut_by::timeout;
    finish_drain(mark, std::move(then), timed_out, timed_out ? reason : std::string{}, now, out);
  } else if (auto* t = std::get_if<tearing_down>(&phase_)) {
    auto reason = std::move(t->reason);
    out.push_back(fail_in_flight{reason});
    out.push_back(release_producers{});
    auto delay = backoff_.failed(now.at);
    if (delay.count() == 0) {
      out.push_back(event(pipeline_event::kind::crashed, std::move(reason)));
      begin(now.at, out);
    } else {
      out.push_back(event(pipeline_event::kind::crashed, reason + "; restarting in " +
                                                           std::to_string(delay.count()) + " ms"));
      phase_ = waiting_to_restart{};
      out.push_back(arm_restart_timer{delay, generation_});
    }
  }
  return out;
}

void supervisor_lifecycle::begin(lifecycle_clock::time_point now, supervisor_effects& out) {
  ++generation_;
  backoff_.started(now);
  phase_ = running{};
  out.push_back(start_generation{generation_});
}

void supervisor_lifecycle::finish_drain(const progress_mark& mark, after_drain then, bool timed_out,
                                        std::string drained_reason, const progress_mark& now,
                                        supervisor_effects& out) {
  out.push_back(event(pipeline_event::kind::drained, std::move(drained_reason)));
  follow(std::move(then), report_between(mark, now, timed_out), now, out);
}

void supervisor_lifecycle::follow(after_drain then, drain_report report, const progress_mark& now,
                                  supervisor_effects& out) {
  std::visit(detail::overloaded{
               [&](then_idle&) {
                 phase_ = idle{};
                 out.push_back(answer_waiters{report});
               },
               [&](then_restart& r) {
                 out.push_back(adopt_options{std::move(r.options)});
                 begin(now.at, out);
                 out.push_back(answer_waiters{report});
               },
               [&](then_stop&) {
                 phase_ = stopped{};
                 out.push_back(answer_waiters{report});
                 out.push_back(quit{});
               },
             },
             then);
}

announce supervisor_lifecycle::event(pipeline_event::kind what, std::string reason) const {
  return announce{pipeline_event{what, generation_, std::move(reason)}};
}

} // namespace causeway::topology
