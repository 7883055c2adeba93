// Claims about supervisor_lifecycle: for each event, the next phase and the effects, in order.
// Each case is a script: events from a fresh lifecycle, each with the effects it must return
// (written as short strings) and the phase it must leave.
#include "causeway/topology/supervisor_lifecycle.hpp"
#include "causeway/detail/overloaded.hpp"

#include "string_makers.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace supervisor_lifecycle_test {

using namespace std::chrono_literals;
using namespace causeway;
using namespace causeway::topology;

namespace {

const lifecycle_clock::time_point t0 = lifecycle_clock::time_point{} + 1h;

std::string describe(const pipeline_event& e) {
  const char* names[] = {"started", "drained", "crashed", "restarted"};
  std::string out{names[static_cast<int>(e.what)]};
  out.append(" ").append(std::to_string(e.generation));
  if (!e.reason.empty())
    out.append(": ").append(e.reason);
  return out;
}

std::string describe(const supervisor_effect& effect) {
  return std::visit(
    detail::overloaded{
      [](const start_generation& s) { return "start " + std::to_string(s.generation); },
      [](const drain_stages& d) { return "drain " + std::to_string(d.generation); },
      [](const kill_stages&) { return std::string{"kill"}; },
      [](const fail_in_flight& f) { return "fail: " + f.reason; },
      [](const release_producers&) { return std::string{"release"}; },
      [](const arm_restart_timer& a) {
        return "timer " + std::to_string(a.delay.count()) + " ms for " + std::to_string(a.generation);
      },
      [](const announce& a) { return describe(a.event); },
      [](const adopt_options& a) { return "adopt " + a.options.name; },
      [](const answer_waiters& a) {
        return "answer " + std::to_string(a.report.messages) + " msgs " +
               std::to_string(a.report.duration.count()) + " ms" +
               (a.report.timed_out ? " timed out" : "");
      },
      [](const quit&) { return std::string{"quit"}; },
    },
    effect);
}

using event = std::function<supervisor_effects(supervisor_lifecycle&)>;

// Events; times are milliseconds after t0, `acked` what had been acknowledged by then.
progress_mark at(std::chrono::milliseconds t, std::uint64_t acked = 0) { return {t0 + t, acked}; }
event start(std::chrono::milliseconds t = 0ms) {
  return [t](supervisor_lifecycle& l) { return l.start(t0 + t); };
}
event started() {
  return [](supervisor_lifecycle& l) { return l.on_started(); };
}
event start_failed(std::chrono::milliseconds t) {
  return [t](supervisor_lifecycle& l) { return l.on_start_failed(t0 + t, "no source yet"); };
}
event drain(std::chrono::milliseconds t, std::uint64_t acked = 0) {
  return [=](supervisor_lifecycle& l) { return l.on_drain(at(t, acked)); };
}
event restart(std::string name, std::chrono::milliseconds t, std::uint64_t acked = 0) {
  return [=](supervisor_lifecycle& l) {
    pipeline_options options;
    options.name = name;
    return l.on_restart(options, at(t, acked));
  };
}
event stop(std::chrono::milliseconds t, std::uint64_t acked = 0) {
  return [=](supervisor_lifecycle& l) { return l.on_stop(at(t, acked)); };
}
event stage_failed(std::string why) {
  return [=](supervisor_lifecycle& l) { return l.on_stage_failed(why); };
}
event stages_gone(std::chrono::milliseconds t, std::uint64_t acked = 0) {
  return [=](supervisor_lifecycle& l) { return l.on_stages_gone(at(t, acked)); };
}
event drain_timeout(std::uint64_t generation) {
  return [=](supervisor_lifecycle& l) { return l.on_drain_timeout(generation, 30000ms); };
}
event restart_timer(std::uint64_t generation, std::chrono::milliseconds t) {
  return [=](supervisor_lifecycle& l) { return l.on_restart_timer(generation, t0 + t); };
}

struct step {
  event what;
  std::vector<std::string> effects;
  std::string phase;
};

void play(const std::vector<step>& script) {
  supervisor_lifecycle lifecycle;
  for (std::size_t i = 0; i < script.size(); ++i) {
    CAPTURE(i);
    std::vector<std::string> effects;
    for (const auto& effect : script[i].what(lifecycle))
      effects.push_back(describe(effect));
    CHECK(effects == script[i].effects);
    CHECK(std::string{name_of(lifecycle.phase())} == script[i].phase);
  }
}

using strings = std::vector<std::string>;

// The first generation, started and running.
const std::vector<step> first_generation = {
  {start(), {"start 1"}, "running"},
  {started(), {"started 1"}, "running"},
};

std::vector<step> after_first(std::vector<step> rest) {
  auto script = first_generation;
  script.insert(script.end(), rest.begin(), rest.end());
  return script;
}

} // namespace

TEST_CASE("a drain ends when the last stage is gone and reports what was acknowledged meanwhile") {
  play(after_first({
    {drain(10ms, 5), {"drain 1"}, "draining"},
    {drain(20ms, 8), {}, "draining"},  // a second request waits for the same end
    {stages_gone(40ms, 25), {"release", "drained 1", "answer 20 msgs 30 ms"}, "idle"},
    {drain(50ms, 25), {"answer 0 msgs 0 ms"}, "idle"},  // nothing runs: answered at once
    {stages_gone(60ms), {}, "idle"},
  }));
}

TEST_CASE("a restart drains, adopts the options and starts the next generation as restarted") {
  play(after_first({
    {restart("two", 10ms, 5), {"drain 1"}, "draining"},
    {stages_gone(40ms, 25),
     {"release", "drained 1", "adopt two", "start 2", "answer 20 msgs 30 ms"}, "running"},
    {started(), {"restarted 2"}, "running"},
    {drain_timeout(1), {}, "running"},  // the first drain's timer, armed for generation 1
  }));
}

TEST_CASE("requests made during a drain combine: the last restart's options win, and a stop outranks all") {
  play(after_first({
    {drain(10ms), {"drain 1"}, "draining"},
    {restart("two", 11ms), {}, "draining"},
    {restart("three", 12ms), {}, "draining"},
    {drain(13ms), {}, "draining"},
    {stages_gone(20ms), {"release", "drained 1", "adopt three", "start 2", "answer 0 msgs 10 ms"},
     "running"},
    {started(), {"restarted 2"}, "running"},
    {restart("four", 30ms), {"drain 2"}, "draining"},
    {stop(31ms), {}, "draining"},
    {restart("five", 32ms), {}, "draining"},
    {stages_gone(40ms), {"release", "drained 2", "answer 0 msgs 10 ms", "quit"}, "stopped"},
    {drain(50ms), {}, "stopped"},
    {restart_timer(2, 60ms), {}, "stopped"},
  }));
}

TEST_CASE("a stop or a restart when nothing runs is answered at once with an empty report") {
  play({
    {start(), {"start 1"}, "running"},
    {started(), {"started 1"}, "running"},
    {drain(0ms), {"drain 1"}, "draining"},
    {stages_gone(5ms), {"release", "drained 1", "answer 0 msgs 5 ms"}, "idle"},
    {restart("two", 10ms), {"adopt two", "start 2", "answer 0 msgs 0 ms"}, "running"},
    {started(), {"restarted 2"}, "running"},
    {drain(20ms), {"drain 2"}, "draining"},
    {stages_gone(25ms), {"release", "drained 2", "answer 0 msgs 5 ms"}, "idle"},
    {stop(30ms), {"answer 0 msgs 0 ms", "quit"}, "stopped"},
  });
}

TEST_CASE("a crashed generation is killed, fails its in-flight messages and restarts at once the first time") {
  play(after_first({
    {stage_failed("killed"), {"kill"}, "tearing_down"},
    {stage_failed("killed"), {}, "tearing_down"},  // the stages being killed exit abnormally too
    {stages_gone(20s),
     {"fail: stage exited: killed", "release", "crashed 1: stage exited: killed", "start 2"},
     "running"},
    {started(), {"restarted 2"}, "running"},
  }));
}

TEST_CASE("generations failing soon after their start restart after 100, 200, 400 ms, and a healthy run resets that") {
  const std::string x = "stage exited: x";
  play(after_first({
    {stage_failed("x"), {"kill"}, "tearing_down"},
    {stages_gone(1s), {"fail: " + x, "release", "crashed 1: " + x, "start 2"}, "running"},
    {started(), {"restarted 2"}, "running"},
    {stage_failed("x"), {"kill"}, "tearing_down"},
    {stages_gone(2s),
     {"fail: " + x, "release", "crashed 2: " + x + "; restarting in 100 ms", "timer 100 ms for 2"},
     "waiting_to_restart"},
    {restart_timer(1, 2050ms), {}, "waiting_to_restart"},  // stale
    {restart_timer(2, 2100ms), {"start 3"}, "running"},
    {started(), {"restarted 3"}, "running"},
    {stage_failed("x"), {"kill"}, "tearing_down"},
    {stages_gone(3s),
     {"fail: " + x, "release", "crashed 3: " + x + "; restarting in 200 ms", "timer 200 ms for 3"},
     "waiting_to_restart"},
    {restart_timer(3, 3200ms), {"start 4"}, "running"},
    {started(), {"restarted 4"}, "running"},
    {stage_failed("x"), {"kill"}, "tearing_down"},
    {stages_gone(4s),
     {"fail: " + x, "release", "crashed 4: " + x + "; restarting in 400 ms", "timer 400 ms for 4"},
     "waiting_to_restart"},
    {restart_timer(4, 4400ms), {"start 5"}, "running"},
    {started(), {"restarted 5"}, "running"},
    {stage_failed("x"), {"kill"}, "tearing_down"},
    // Generation 5 ran 10 s (healthy_after): its failure restarts at once.
    {stages_gone(14400ms), {"fail: " + x, "release", "crashed 5: " + x, "start 6"}, "running"},
  }));
}

TEST_CASE("producers that cannot be created are retried after 0, 100, 200 and 400 ms, and the first generation that runs is announced as started") {
  const std::string why = "cannot create producer: no source yet; retrying in ";
  play({
    {start(), {"start 1"}, "running"},
    {start_failed(0ms), {"crashed 1: " + why + "0 ms", "timer 0 ms for 1"}, "waiting_to_restart"},
    {restart_timer(1, 0ms), {"start 2"}, "running"},
    {start_failed(0ms), {"crashed 2: " + why + "100 ms", "timer 100 ms for 2"}, "waiting_to_restart"},
    {restart_timer(2, 100ms), {"start 3"}, "running"},
    {start_failed(100ms), {"crashed 3: " + why + "200 ms", "timer 200 ms for 3"}, "waiting_to_restart"},
    {restart_timer(3, 300ms), {"start 4"}, "running"},
    {start_failed(300ms), {"crashed 4: " + why + "400 ms", "timer 400 ms for 4"}, "waiting_to_restart"},
    {restart_timer(4, 700ms), {"start 5"}, "running"},
    {started(), {"started 5"}, "running"},
  });
}

TEST_CASE("a drain while a failed generation waits for its restart keeps the pipeline down") {
  play({
    {start(), {"start 1"}, "running"},
    {start_failed(0ms), {"crashed 1: cannot create producer: no source yet; retrying in 0 ms", "timer 0 ms for 1"},
     "waiting_to_restart"},
    {restart_timer(1, 0ms), {"start 2"}, "running"},
    {start_failed(0ms), {"crashed 2: cannot create producer: no source yet; retrying in 100 ms", "timer 100 ms for 2"},
     "waiting_to_restart"},
    {drain(50ms), {"answer 0 msgs 0 ms"}, "idle"},
    {restart_timer(2, 100ms), {}, "idle"},
    {restart("two", 200ms), {"adopt two", "start 3", "answer 0 msgs 0 ms"}, "running"},
    {started(), {"started 3"}, "running"},
  });
}

TEST_CASE("a restart while a failed generation waits starts the next one at once with the new options") {
  play({
    {start(), {"start 1"}, "running"},
    {start_failed(0ms), {"crashed 1: cannot create producer: no source yet; retrying in 0 ms", "timer 0 ms for 1"},
     "waiting_to_restart"},
    {restart("two", 0ms), {"adopt two", "start 2", "answer 0 msgs 0 ms"}, "running"},
    {restart_timer(1, 0ms), {}, "running"},  // the old timer is stale
    {started(), {"started 2"}, "running"},
  });
}

TEST_CASE("the shutdown timeout cuts a drain short: stages killed, in-flight failed, the report says timed out") {
  const std::string why = "shutdown timeout of 30000 ms passed while draining";
  play(after_first({
    {drain(10ms, 5), {"drain 1"}, "draining"},
    {drain_timeout(0), {}, "draining"},  // armed for another generation
    {drain_timeout(1), {"kill"}, "aborting_drain"},
    {stage_failed("killed"), {}, "aborting_drain"},
    {drain_timeout(1), {}, "aborting_drain"},
    {stages_gone(30010ms, 9),
     {"fail: " + why, "release", "crashed 1: " + why, "drained 1: " + why, "answer 4 msgs 30000 ms timed out"},
     "idle"},
  }));
}

TEST_CASE("a stage failure during a drain ends the drain as planned, with no restart by backoff") {
  play(after_first({
    {restart("two", 10ms, 5), {"drain 1"}, "draining"},
    {stage_failed("boom"), {"kill"}, "aborting_drain"},
    {drain(15ms), {}, "aborting_drain"},
    {stages_gone(30ms, 6),
     {"fail: stage exited: boom", "release", "crashed 1: stage exited: boom", "drained 1", "adopt two",
      "start 2", "answer 1 msgs 20 ms"},
     "running"},
  }));
}

TEST_CASE("a request while a crashed generation is torn down ends it as a drain, not a restart") {
  play(after_first({
    {stage_failed("x"), {"kill"}, "tearing_down"},
    {drain(50ms, 7), {}, "aborting_drain"},
    {stop(60ms), {}, "aborting_drain"},
    {stages_gone(80ms, 10),
     {"fail: stage exited: x", "release", "crashed 1: stage exited: x", "drained 1", "answer 3 msgs 30 ms",
      "quit"},
     "stopped"},
  }));
}

TEST_CASE("events that do not apply to the phase change nothing") {
  play({
    {stages_gone(0ms), {}, "idle"},
    {stage_failed("x"), {}, "idle"},
    {started(), {}, "idle"},
    {start_failed(0ms), {}, "idle"},
    {drain_timeout(0), {}, "idle"},
    {restart_timer(0, 0ms), {}, "idle"},
    {start(), {"start 1"}, "running"},
    {start(), {}, "running"},  // once
    {stages_gone(5ms), {}, "running"},
    {restart_timer(1, 5ms), {}, "running"},
    {drain_timeout(1), {}, "running"},
  });
}

} // namespace supervisor_lifecycle_test
