// virtual_time_fixture.hpp — a pipeline supervisor on CAF's deterministic test coordinator:
// no scheduler threads, a virtual clock. Timers (backoff, drain timeout) fire only when the test
// advances the clock, and every message is handled by the test's thread in run().
//
// CAF 0.17's own fixture (caf/test/dsl.hpp) needs CAF's unit test engine, which Debian does not
// ship; this is the part of it these tests need.
#pragma once

#include "pipeline_fixture.hpp"

#include "causeway/atoms.hpp"
#include "causeway/topology/supervisor.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>

namespace causeway::test {

/// An actor system whose scheduler runs only when the test says so.
struct virtual_time_system {
  struct config : caf::actor_system_config {
    config() { set("scheduler.policy", caf::atom("testing")); }
  };
  config cfg;
  caf::actor_system system{cfg};
  caf::scheduler::test_coordinator& scheduler =
    dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());

  virtual_time_system() { scheduler.clock().current_time += std::chrono::hours(1); }

  /// Lets every actor handle every message in its mailbox, until none is left.
  void run() { scheduler.run(); }
  /// Moves the clock forward, delivers the timers that came due, and runs.
  void advance(std::chrono::milliseconds by) {
    scheduler.advance_time(by);
    run();
  }
};

struct virtual_time_fixture : virtual_time_system, pipeline_doubles {
  /// Hidden, so the system does not wait for it; it only sends requests and reads answers.
  caf::scoped_actor self{system, true};

  /// The supervisor alone, without a `pipeline` handle (whose calls block until answered).
  caf::actor spawn_supervisor(pipeline_spec s) {
    auto supervisor = system.spawn<topology::supervisor>(std::move(s));
    run();
    return supervisor;
  }

  /// Sends (drain_atom) or (stop_atom), runs, and returns the answer.
  template <class Atom>
  drain_report ask(const caf::actor& supervisor, Atom what) {
    drain_report report;
    bool answered = false;
    auto handle = self->request(supervisor, caf::infinite, what);
    run();
    std::move(handle).receive([&](drain_report& r) { report = r; answered = true; },
                              [](caf::error&) {});
    REQUIRE(answered);
    return report;
  }
};

} // namespace causeway::test
