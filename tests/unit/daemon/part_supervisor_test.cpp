#include "telluride/daemon/part_supervisor.hpp"

#include <causeway/runtime.hpp>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

using namespace std::chrono_literals;
using telluride::actor_slot;
using telluride::part_health;
using telluride::part_spec;
using telluride::part_supervisor;
using telluride::shutdown_atom;

namespace {

using boom_atom = caf::atom_constant<caf::atom("t_boom")>;
using ping_atom = caf::atom_constant<caf::atom("t_ping")>;

/// Answers ping with its instance number; dies of an exception on boom.
class fragile_part : public caf::event_based_actor {
public:
  fragile_part(caf::actor_config& cfg, int instance) : caf::event_based_actor(cfg), instance_(instance) {}

  caf::behavior make_behavior() override {
    return {
      [this](ping_atom) { return instance_; },
      [](boom_atom) -> int { throw std::runtime_error("bad state"); },
      [this](shutdown_atom) {
        quit();
        return true;
      },
    };
  }

private:
  int instance_;
};

struct fixture {
  causeway::runtime_config config{1};
  caf::actor_system system{config};
  std::shared_ptr<part_health> health = std::make_shared<part_health>();
  std::shared_ptr<actor_slot> slot = std::make_shared<actor_slot>();
  std::atomic<int> spawned{0};
  std::atomic<int> failing_starts{0};  // the next starts that throw

  part_spec spec() {
    return part_spec{"fragile part",
                     [this](caf::actor_system& sys) {
                       if (failing_starts > 0) {
                         --failing_starts;
                         throw std::runtime_error("no resources");
                       }
                       return sys.spawn<fragile_part>(++spawned);
                     },
                     health, slot, {10ms, 40ms, 10s}};
  }

  template <class Predicate>
  bool eventually(Predicate done, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  int ping() {
    int answer = -1;
    caf::scoped_actor self{system};
    if (auto part = slot->get())
      self->request(part, 2s, ping_atom::value).receive([&](int i) { answer = i; }, [](caf::error&) {});
    return answer;
  }

  void shut_down(const caf::actor& supervisor) {
    caf::scoped_actor self{system};
    bool done = false;
    self->request(supervisor, 5s, shutdown_atom::value).receive([&](bool ok) { done = ok; }, [](caf::error&) {});
    CHECK(done);
  }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "a part that dies of an exception is started again and the slot points at the new one") {
  auto supervisor = system.spawn<part_supervisor>(spec());
  REQUIRE(eventually([&] { return ping() == 1; }));
  CHECK_FALSE(health->first_problem());

  caf::anon_send(slot->get(), boom_atom::value);
  REQUIRE(eventually([&] { return ping() == 2; }));
  CHECK(spawned == 2);
  CHECK_FALSE(health->first_problem());
  shut_down(supervisor);
}

TEST_CASE_FIXTURE(fixture, "a part that keeps failing is marked down with its reason while restarts back off") {
  failing_starts = 3;
  auto supervisor = system.spawn<part_supervisor>(spec());
  // Down with the reason until the fourth start succeeds (after 0, 10, 20 ms... of backoff).
  REQUIRE(eventually([&] { return health->first_problem().has_value(); }));
  CHECK(*health->first_problem() == "fragile part: cannot start: no resources");
  REQUIRE(eventually([&] { return ping() == 1; }));
  CHECK(failing_starts == 0);
  CHECK_FALSE(health->first_problem());
  shut_down(supervisor);
}

TEST_CASE_FIXTURE(fixture, "a shut down part is not started again") {
  auto supervisor = system.spawn<part_supervisor>(spec());
  REQUIRE(eventually([&] { return ping() == 1; }));
  shut_down(supervisor);
  std::this_thread::sleep_for(100ms);
  CHECK(spawned == 1);
  CHECK_FALSE(slot->get());
  CHECK_FALSE(health->first_problem());
}

TEST_CASE("part_health names the part that went down first, until it is up again") {
  part_health health;
  CHECK_FALSE(health.first_problem());
  health.set_down("config handler", "stopped (runtime_error)");
  health.set_down("reporter", "stopped (x)");
  CHECK(*health.first_problem() == "config handler: stopped (runtime_error)");
  health.set_down("config handler", "cannot start: y");
  CHECK(*health.first_problem() == "config handler: cannot start: y");
  health.set_up("config handler");
  CHECK(*health.first_problem() == "reporter: stopped (x)");
  health.set_up("reporter");
  CHECK_FALSE(health.first_problem());
}
