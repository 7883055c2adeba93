#include <doctest/doctest.h>

#include "causeway/detail/deferred_sharing.hpp"
#include "pipeline_fixture.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/coordinator.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace scheduler_test {

using namespace std::chrono_literals;
using causeway::detail::deferred_sharing;
using causeway::test::threaded_system;

using go_atom = caf::atom_constant<caf::atom("t_go")>;
using ping_atom = caf::atom_constant<caf::atom("t_ping")>;
using token_atom = caf::atom_constant<caf::atom("t_token")>;

namespace {

struct busy_sender_record {
  std::atomic<bool> sender_done{false};
  std::atomic<int> handled{0};
  std::atomic<int> handled_while_sender_busy{0};
};

// Counts the pings it gets, and whether the busy sender was still in its handler then.
caf::behavior receiver(caf::event_based_actor*, std::shared_ptr<busy_sender_record> r) {
  return {[r](ping_atom) {
    if (!r->sender_done.load())
      ++r->handled_while_sender_busy;
    ++r->handled;
  }};
}

// On go: pings every receiver, then stays in its handler for `busy`.
caf::behavior busy_sender(caf::event_based_actor* self, std::vector<caf::actor> receivers,
                          std::shared_ptr<busy_sender_record> r, std::chrono::milliseconds busy) {
  return {[self, receivers, r, busy](go_atom) {
    for (const auto& x : receivers)
      self->send(x, ping_atom::value);
    std::this_thread::sleep_for(busy);
    r->sender_done = true;
  }};
}

// Waits until both workers sleep for want of a job: one that is still awake (finishing earlier
// work on a loaded host, as in a CI run under ASan beside other work) would take a job that
// nobody woke it for, which says nothing about the rule the tests check.
void wait_until_both_workers_sleep(caf::actor_system& system) {
  auto& coordinator = dynamic_cast<caf::scheduler::coordinator<deferred_sharing>&>(system.scheduler());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (deferred_sharing::idle_workers(coordinator.data()) < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  REQUIRE(deferred_sharing::idle_workers(coordinator.data()) == 2);
}

// Sends `count` pings from a handler that then stays busy for 400 ms; returns how many
// receivers ran while it was busy.
int handled_while_busy(caf::actor_system& system, std::size_t count) {
  auto r = std::make_shared<busy_sender_record>();
  std::vector<caf::actor> receivers;
  for (std::size_t i = 0; i < count; ++i)
    receivers.push_back(system.spawn(receiver, r));
  auto sender = system.spawn(busy_sender, receivers, r, 400ms);
  wait_until_both_workers_sleep(system);  // the spawns ran, and a sender of an earlier call is done
  caf::anon_send(sender, go_atom::value);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (r->handled.load() < static_cast<int>(count) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  CHECK(r->handled.load() == static_cast<int>(count));
  for (auto& x : receivers)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
  return r->handled_while_sender_busy.load();
}

// The fewest receivers that ran while the sender was busy, over up to three tries (stopping at
// none): both workers sleep when each try begins, but a spurious wake-up of the idle one would
// let it take the pings; a rule that woke a worker would do so in every try.
int fewest_handled_while_busy(caf::actor_system& system, std::size_t count) {
  int fewest = static_cast<int>(count) + 1;
  for (int attempt = 0; attempt < 3 && fewest != 0; ++attempt)
    fewest = std::min(fewest, handled_while_busy(system, count));
  return fewest;
}

// Counts the token and sends it back to `back` with one hop less to go; at 0 it answers
// `done_to` instead.
caf::behavior member(caf::event_based_actor* self, std::shared_ptr<std::atomic<int>> hops) {
  return {[self, hops](token_atom, caf::actor back, int left, caf::actor done_to) {
    ++*hops;
    if (left == 0)
      self->send(done_to, token_atom::value);
    else
      self->send(back, token_atom::value, back, left - 1, done_to);
  }};
}

// Passes the token to member `left % members`, naming itself as the way back.
caf::behavior relay(caf::event_based_actor* self, std::vector<caf::actor> members) {
  return {[self, members](token_atom, caf::actor, int left, caf::actor done_to) {
    self->send(members[static_cast<std::size_t>(left) % members.size()], token_atom::value,
               caf::actor_cast<caf::actor>(self), left, done_to);
  }};
}

} // namespace

TEST_CASE_FIXTURE(threaded_system, "messages sent from a busy handler to up to eight actors wait for that handler") {
  static_assert(deferred_sharing::deferred_jobs == 8);
  CHECK(fewest_handled_while_busy(system, 1) == 0);
  CHECK(fewest_handled_while_busy(system, 2) == 0);
  CHECK(fewest_handled_while_busy(system, 8) == 0);
}

TEST_CASE_FIXTURE(threaded_system, "a ninth actor made runnable by a busy handler wakes the other worker for all nine") {
  CHECK(handled_while_busy(system, 9) == 9);
  // The ninth wakes the other worker, which runs the nine waiting. The sender may make the rest
  // runnable after that worker emptied the queue and slept again: eight or fewer waiting then,
  // so nobody is woken for them and they may wait for the sender.
  const int of_twelve = handled_while_busy(system, 12);
  CHECK(of_twelve >= 9);
  CHECK(of_twelve <= 12);
}

TEST_CASE_FIXTURE(threaded_system, "a message from outside the workers wakes a sleeping worker while the other is busy") {
  auto r = std::make_shared<busy_sender_record>();
  auto sender = system.spawn(busy_sender, std::vector<caf::actor>{}, r, 400ms);
  auto other = system.spawn(receiver, r);
  wait_until_both_workers_sleep(system);
  caf::anon_send(sender, go_atom::value);
  std::this_thread::sleep_for(50ms);  // the sender's handler runs
  caf::anon_send(other, ping_atom::value);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (r->handled.load() < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  CHECK(r->handled.load() == 1);
  CHECK(r->handled_while_sender_busy.load() == 1);
  caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(threaded_system, "a token passed 40,000 times between a relay and 8 actors arrives, every hop counted") {
  // Every hop makes the next actor runnable from a handler: a wake-up lost by the policy would
  // leave the token waiting forever.
  auto hops = std::make_shared<std::atomic<int>>(0);
  std::vector<caf::actor> members;
  for (int i = 0; i < 8; ++i)
    members.push_back(system.spawn(member, hops));
  auto hub = system.spawn(relay, members);
  caf::scoped_actor self{system};
  self->send(hub, token_atom::value, hub, 20000, caf::actor{self});
  bool arrived = false;
  self->receive([&](token_atom) { arrived = true; }, caf::after(std::chrono::seconds(60)) >> [] {});
  CHECK(arrived);
  CHECK(hops->load() == 20001);
  for (auto& x : members)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
}

} // namespace scheduler_test
