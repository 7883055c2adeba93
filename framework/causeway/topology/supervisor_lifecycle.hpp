// supervisor_lifecycle.hpp — the pipeline supervisor's life as a value: the phase it is in, and
// for each event the next phase and what the supervisor actor must do (internal).
//
// Pure: no actors, no clock of its own (events carry the time), no CAF. The supervisor actor
// feeds it every event and executes the effects it returns, in order; the request promises stay
// in the actor, which answers all of them when told (`answer_waiters`).
//
//   phase               event                       next phase (and what the actor does)
//   idle                start, restart              running (start a generation)
//   idle                drain                       idle (answer at once)
//   idle                stop                        stopped (answer, quit)
//   running             start failed                waiting_to_restart (arm the restart timer)
//   running             drain, restart, stop        draining{then} (drain the producer stages)
//   running             stage failed                tearing_down{reason} (kill every stage)
//   draining            drain, restart, stop        draining{then combined}
//   draining            stage failed, drain timeout aborting_drain{reason} (kill every stage)
//   draining            last stage gone             end of the drain
//   tearing_down        drain, restart, stop        aborting_drain{reason, then}
//   tearing_down        last stage gone             running (at once) or waiting_to_restart
//   aborting_drain      drain, restart, stop        aborting_drain{then combined}
//   aborting_drain      last stage gone             end of the drain
//   waiting_to_restart  restart timer, restart      running
//   waiting_to_restart  drain                       idle; stop: stopped
//   end of the drain    then_idle → idle, then_restart → running with the options,
//                       then_stop → stopped; every waiting request is answered
//
// `then` is what follows a drain. Requests made while a drain is under way combine: a drain
// changes nothing, a restart replaces an earlier restart's options, a stop outranks both. Every
// other pair (phase, event) changes nothing: stale timers, a second failure while stages are
// being killed, anything after stopped.
#pragma once

#include "causeway/options.hpp"
#include "causeway/pipeline_event.hpp"
#include "causeway/restart_backoff.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace causeway::topology {

using lifecycle_clock = std::chrono::steady_clock;

/// A point in a pipeline's life: when, and how many messages had been acknowledged by then.
/// A drain's report is the difference between its start and its end.
struct progress_mark {
  lifecycle_clock::time_point at{};
  std::uint64_t acknowledged = 0;
};

/// What follows a drain once every stage is gone.
struct then_idle {};
struct then_restart {
  pipeline_options options;
};
struct then_stop {};
using after_drain = std::variant<then_idle, then_restart, then_stop>;

/// Why a drain was cut short.
enum class cut_by : std::uint8_t { stage_failure, timeout };

// The phases.
/// No generation runs, and none will until asked: before the first start, after a drain.
struct idle {};
/// A generation runs (from the moment its start is decided; its producers may still be created).
struct running {};
/// The producer stages were told to drain; the stages exit one after another.
struct draining {
  progress_mark mark;
  after_drain then;
};
/// A stage of the running generation died: every stage is killed; a new generation follows.
struct tearing_down {
  std::string reason;
};
/// A drain whose generation is killed (a stage died, or the shutdown timeout fired), or a
/// teardown a request arrived during: once the stages are gone, the drain ends as planned.
struct aborting_drain {
  std::string reason;
  progress_mark mark;
  after_drain then;
  cut_by cause = cut_by::stage_failure;
};
/// A generation failed (or could not create its producers); the restart timer is armed.
struct waiting_to_restart {};
/// The supervisor ended.
struct stopped {};
using supervisor_phase =
  std::variant<idle, running, draining, tearing_down, aborting_drain, waiting_to_restart, stopped>;

std::string_view name_of(const supervisor_phase& phase) noexcept;

// What the actor does.
/// Create the producers, spawn and wire the stages of generation(), then report the outcome
/// with on_started or on_start_failed.
struct start_generation {
  std::uint64_t generation = 0;
};
/// Send drain to every producer stage and arm the shutdown timeout for `generation`.
struct drain_stages {
  std::uint64_t generation = 0;
};
/// Kill every live stage.
struct kill_stages {};
/// Each producer fails its unacknowledged messages back with `reason`.
struct fail_in_flight {
  std::string reason;
};
/// Stop and drop the producers; forget the stages.
struct release_producers {};
/// Arm the restart timer: it fires on_restart_timer(generation) after `delay`.
struct arm_restart_timer {
  std::chrono::milliseconds delay{0};
  std::uint64_t generation = 0;
};
/// Tell the owner (pipeline_spec::on_event).
struct announce {
  pipeline_event event;
};
/// From now on, generations start with these options.
struct adopt_options {
  pipeline_options options;
};
/// Answer every waiting drain, restart and stop request with this report.
struct answer_waiters {
  drain_report report;
};
/// End the supervisor.
struct quit {};
using supervisor_effect =
  std::variant<start_generation, drain_stages, kill_stages, fail_in_flight, release_producers,
               arm_restart_timer, announce, adopt_options, answer_waiters, quit>;
using supervisor_effects = std::vector<supervisor_effect>;

class supervisor_lifecycle {
public:
  supervisor_lifecycle() = default;
  explicit supervisor_lifecycle(restart_backoff backoff) : backoff_(backoff) {}

  /// The first generation starts (once, when the supervisor starts).
  supervisor_effects start(lifecycle_clock::time_point now);
  /// The generation start_generation asked for runs: its stages are spawned and wired.
  supervisor_effects on_started();
  /// Its producers could not be created (`what` says why).
  supervisor_effects on_start_failed(lifecycle_clock::time_point now, std::string_view what);

  /// Requests; `now` is when it arrived and how much had been acknowledged by then.
  supervisor_effects on_drain(progress_mark now);
  /// `options` are valid (the actor refuses invalid ones without consulting the lifecycle).
  supervisor_effects on_restart(pipeline_options options, progress_mark now);
  supervisor_effects on_stop(progress_mark now);

  /// A live stage exited abnormally (`why`: its exit reason).
  supervisor_effects on_stage_failed(std::string_view why);
  /// The last live stage of the generation exited.
  supervisor_effects on_stages_gone(progress_mark now);
  /// Timers, each armed for one generation: stale ones change nothing.
  supervisor_effects on_drain_timeout(std::uint64_t generation, std::chrono::milliseconds timeout);
  supervisor_effects on_restart_timer(std::uint64_t generation, lifecycle_clock::time_point now);

  const supervisor_phase& phase() const noexcept { return phase_; }
  /// Increases with every start (or attempt); 0 before the first.
  std::uint64_t generation() const noexcept { return generation_; }

private:
  void begin(lifecycle_clock::time_point now, supervisor_effects& out);
  void finish_drain(const progress_mark& mark, after_drain then, bool timed_out,
                    std::string drained_reason, const progress_mark& now, supervisor_effects& out);
  supervisor_effects on_request(after_drain then, progress_mark now);
  void follow(after_drain then, drain_report report, const progress_mark& now,
              supervisor_effects& out);
  announce event(pipeline_event::kind what, std::string reason = {}) const;

  supervisor_phase phase_ = idle{};
  std::uint64_t generation_ = 0;
  // A generation that crashes (or cannot create its producers) is replaced at once the first
  // time, then with growing delays while generations keep failing soon after their start.
  restart_backoff backoff_;
  bool has_run_ = false;  // a generation ran: the next one is announced as restarted
};

} // namespace causeway::topology
