// Claims about shard_handover: for each event, the steps (in order) and the next phase.
// Each case is a script on a virtual clock, played by node "a" from a fresh standby: events,
// each with the steps it must return (short strings) and the phase it must leave.
#include "causeway/sharding/shard_handover.hpp"
#include "causeway/detail/overloaded.hpp"

#include "string_makers.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_handover_test {

using namespace std::chrono_literals;
using namespace causeway;
using namespace causeway::sharding;

namespace {

const handover_clock::time_point t0 = handover_clock::time_point{} + 1h;

std::string describe(const announce& a) {
  const char* names[] = {"taken", "resumed", "released", "fenced", "claim lost", "failed"};
  std::string out = names[static_cast<int>(a.what)] + std::string{" "} + std::to_string(a.epoch);
  if (a.what == handover_news::taken)
    out += " in " + std::to_string(a.took.count()) + " ms";
  if (!a.detail.empty())
    out += ": " + a.detail;
  return out;
}

std::string describe(const handover_step& step) {
  auto n = [](const char* what, std::uint64_t epoch) { return what + std::to_string(epoch); };
  return std::visit(
    detail::overloaded{
      [&](const write_takeover& s) { return n("takeover ", s.epoch); },
      [&](const restore& s) { return n("restore ", s.epoch); },
      [](const cancel_restore&) { return std::string{"cancel restore"}; },
      [](const subscribe&) { return std::string{"subscribe"}; },
      [](const cancel_consumer&) { return std::string{"cancel consumer"}; },
      [](const close_consumer&) { return std::string{"close consumer"}; },
      [&](const write_final_checkpoint& s) { return n("final checkpoint ", s.epoch); },
      [](const acknowledge_taken&) { return std::string{"ack"}; },
      [&](const write_release& s) { return n("release ", s.epoch); },
      [](const drop_state&) { return std::string{"drop state"}; },
      [](const arm_retry_timer& s) {
        return "timer " + std::to_string(s.delay.count()) + " ms #" + std::to_string(s.attempt);
      },
      [](const announce& s) { return describe(s); },
    },
    step);
}

using event = std::function<handover_steps(shard_handover&)>;
using ms = std::chrono::milliseconds;

event assigned(ms t = 0ms) {
  return [=](shard_handover& h) { return h.on_assigned(t0 + t); };
}
event unassigned() {
  return [](shard_handover& h) { return h.on_unassigned(); };
}
event takeover(std::string node, std::uint64_t epoch, ms t = 0ms) {
  return [=](shard_handover& h) { return h.on_takeover_seen(node, epoch, t0 + t); };
}
event release(std::string node, std::uint64_t epoch, ms t = 0ms) {
  return [=](shard_handover& h) { return h.on_release_seen(node, epoch, t0 + t); };
}
event gone(std::string node, ms t = 0ms) {
  return [=](shard_handover& h) { return h.on_node_gone(node, t0 + t); };
}
event restored(ms t) {
  return [=](shard_handover& h) { return h.on_restored(t0 + t); };
}
event claim_lost(std::string winner, std::uint64_t epoch, ms t = 0ms) {
  return [=](shard_handover& h) { return h.on_claim_lost(winner, epoch, t0 + t); };
}
event drained() {
  return [](shard_handover& h) { return h.on_drained(); };
}
event checkpoint_confirmed() {
  return [](shard_handover& h) { return h.on_final_checkpoint_confirmed(); };
}
event release_confirmed(ms t = 0ms) {
  return [=](shard_handover& h) { return h.on_release_confirmed(t0 + t); };
}
event failed(std::string reason, ms t) {
  return [=](shard_handover& h) { return h.on_failed(reason, t0 + t); };
}
event retry_timer(std::uint64_t attempt, ms t) {
  return [=](shard_handover& h) { return h.on_retry_timer(attempt, t0 + t); };
}

using strings = std::vector<std::string>;

struct step {
  event what;
  strings steps;
  std::string phase;
};

void play(shard_handover& h, const std::vector<step>& script) {
  for (std::size_t i = 0; i < script.size(); ++i) {
    CAPTURE(i);
    strings steps;
    for (const auto& s : script[i].what(h))
      steps.push_back(describe(s));
    CHECK(steps == script[i].steps);
    CHECK(std::string{name_of(h.phase())} == script[i].phase);
  }
}

void play(const std::vector<step>& script) {
  shard_handover h{"a"};
  play(h, script);
}

// Node "a" claims a free shard with epoch 1, restores it in 40 ms and consumes it.
const std::vector<step> taken_at_epoch_1 = {
  {assigned(), {"takeover 1", "restore 1"}, "restoring"},
  {takeover("a", 1), {}, "restoring"},  // its own record, read back
  {restored(40ms), {"subscribe", "taken 1 in 40 ms"}, "active"},
};

std::vector<step> after(std::vector<step> start, const std::vector<step>& rest) {
  start.insert(start.end(), rest.begin(), rest.end());
  return start;
}

} // namespace

TEST_CASE("a free shard is claimed, restored and taken, and given up it is drained, checkpointed and released") {
  play(after(taken_at_epoch_1, {
    {unassigned(), {"cancel consumer"}, "draining"},
    {drained(), {"final checkpoint 1"}, "checkpointing"},
    {checkpoint_confirmed(), {"ack", "release 1", "drop state"}, "releasing"},
    {release_confirmed(), {"released 1"}, "standby"},
    {release("a", 1), {}, "standby"},  // its own release, read back
    {assigned(), {"takeover 2", "restore 2"}, "restoring"},
  }));
}

TEST_CASE("a shard another node holds is claimed only after that node's release, with the next epoch") {
  play({
    {takeover("b", 4), {}, "standby"},
    {assigned(), {}, "awaiting_release"},
    {release("c", 4), {}, "awaiting_release"},  // not the holder's
    {release("b", 3), {}, "awaiting_release"},  // an older one
    {drained(), {}, "awaiting_release"},
    {release("b", 4, 10ms), {"takeover 5", "restore 5"}, "restoring"},
    {restored(30ms), {"subscribe", "taken 5 in 20 ms"}, "active"},
  });
}

TEST_CASE("a holder whose heartbeat lapsed is taken over without its release") {
  play({
    {takeover("b", 2), {}, "standby"},
    {assigned(), {}, "awaiting_release"},
    {gone("c"), {}, "awaiting_release"},
    {gone("b", 5s), {"takeover 3", "restore 3"}, "restoring"},
  });
}

TEST_CASE("a holder that lapsed before the shard was assigned here is taken over at once") {
  shard_handover h{"a"};
  play(h, {
    {takeover("b", 2), {}, "standby"},
    {gone("b"), {}, "standby"},
    {assigned(), {"takeover 3", "restore 3"}, "restoring"},
  });
  CHECK(h.holder() == shard_holder{2, "b", false});
}

TEST_CASE("the claim of an earlier life of this node's name holds nothing") {
  play({
    {takeover("a", 7), {}, "standby"},  // read while catching up after a restart
    {assigned(), {"takeover 8", "restore 8"}, "restoring"},
  });
}

TEST_CASE("unassigned while waiting for a release: nothing was written, so nothing to undo") {
  play({
    {takeover("b", 1), {}, "standby"},
    {assigned(), {}, "awaiting_release"},
    {unassigned(), {}, "standby"},
    {release("b", 1), {}, "standby"},
    {gone("b"), {}, "standby"},
    {assigned(), {"takeover 2", "restore 2"}, "restoring"},
  });
}

TEST_CASE("assigned back during the drain: the drain ends and the same claim resumes") {
  play(after(taken_at_epoch_1, {
    {unassigned(), {"cancel consumer"}, "draining"},
    {assigned(), {}, "draining"},
    {drained(), {"subscribe", "resumed 1"}, "active"},
  }));
}

TEST_CASE("the drain's end follows the latest verdict") {
  play(after(taken_at_epoch_1, {
    {unassigned(), {"cancel consumer"}, "draining"},
    {assigned(), {}, "draining"},
    {unassigned(), {}, "draining"},
    {drained(), {"final checkpoint 1"}, "checkpointing"},
    {assigned(), {}, "checkpointing"},
    {checkpoint_confirmed(), {"ack", "subscribe", "resumed 1"}, "active"},
  }));
}

TEST_CASE("assigned back once the release is written: a new claim after its confirm") {
  play(after(taken_at_epoch_1, {
    {unassigned(), {"cancel consumer"}, "draining"},
    {drained(), {"final checkpoint 1"}, "checkpointing"},
    {checkpoint_confirmed(), {"ack", "release 1", "drop state"}, "releasing"},
    {assigned(), {}, "releasing"},
    {release_confirmed(), {"released 1", "takeover 2", "restore 2"}, "restoring"},
  }));
}

TEST_CASE("unassigned during the restore: the restore stops and the claim is released") {
  play({
    {assigned(), {"takeover 1", "restore 1"}, "restoring"},
    {unassigned(), {"cancel restore", "release 1"}, "releasing"},
    {restored(50ms), {}, "releasing"},  // the cancelled restore's late answer
    {release_confirmed(), {"released 1"}, "standby"},
  });
}

TEST_CASE("two nodes claim at once: the later takeover loses and waits for the winner") {
  shard_handover h{"a"};
  play(h, {
    {release("b", 3), {}, "standby"},
    {assigned(), {"takeover 4", "restore 4"}, "restoring"},
    {takeover("c", 4), {}, "restoring"},  // c's claim came first
    {claim_lost("c", 4), {"claim lost 4: c claimed it first, with epoch 4"}, "awaiting_release"},
    {takeover("a", 4), {}, "awaiting_release"},  // our losing claim, read back: ignored
    {release("c", 4), {"takeover 5", "restore 5"}, "restoring"},
  });
  CHECK(h.holder() == shard_holder{4, "c", false});
}

TEST_CASE("a newer claim of another node fences a holder: it requeues, keeps nothing, releases nothing") {
  play(after(taken_at_epoch_1, {
    {takeover("b", 1), {}, "active"},  // a claim that lost to ours
    {takeover("b", 2),
     {"close consumer", "drop state", "fenced 1: taken over by b with epoch 2"}, "awaiting_release"},
    {release("b", 2), {"takeover 3", "restore 3"}, "restoring"},
    {takeover("c", 4), {"cancel restore", "fenced 3: taken over by c with epoch 4"}, "awaiting_release"},
  }));
  play(after(taken_at_epoch_1, {
    {unassigned(), {"cancel consumer"}, "draining"},
    {takeover("b", 2), {"close consumer", "drop state", "fenced 1: taken over by b with epoch 2"}, "standby"},
    {drained(), {}, "standby"},
  }));
  play(after(taken_at_epoch_1, {
    {unassigned(), {"cancel consumer"}, "draining"},
    {drained(), {"final checkpoint 1"}, "checkpointing"},
    {takeover("b", 2), {"close consumer", "drop state", "fenced 1: taken over by b with epoch 2"}, "standby"},
    {checkpoint_confirmed(), {}, "standby"},
  }));
}

TEST_CASE("a release of another node with a newer epoch fences a holder, and the shard is free") {
  play(after(taken_at_epoch_1, {
    {release("b", 3, 1s), {"close consumer", "drop state", "fenced 1: taken over by b with epoch 3",
                           "takeover 4", "restore 4"}, "restoring"},
  }));
}

TEST_CASE("a takeover after this node's release is no fence") {
  play(after(taken_at_epoch_1, {
    {unassigned(), {"cancel consumer"}, "draining"},
    {drained(), {"final checkpoint 1"}, "checkpointing"},
    {checkpoint_confirmed(), {"ack", "release 1", "drop state"}, "releasing"},
    {takeover("b", 2), {}, "releasing"},
    {assigned(), {}, "releasing"},
    {release_confirmed(), {"released 1"}, "awaiting_release"},
  }));
}

TEST_CASE("a failed restore is retried with a new claim after a growing delay") {
  play({
    {assigned(), {"takeover 1", "restore 1"}, "restoring"},
    {failed("gap at sequence 7", 10ms),
     {"cancel restore", "failed 1: gap at sequence 7; retrying in 0 ms", "timer 0 ms #1"}, "retrying"},
    {failed("again", 10ms), {}, "retrying"},
    {retry_timer(1, 10ms), {"takeover 2", "restore 2"}, "restoring"},
    {failed("gap at sequence 7", 20ms),
     {"cancel restore", "failed 2: gap at sequence 7; retrying in 100 ms", "timer 100 ms #2"}, "retrying"},
    {retry_timer(1, 120ms), {}, "retrying"},  // stale
    {retry_timer(2, 120ms), {"takeover 3", "restore 3"}, "restoring"},
    {failed("timeout", 130ms),
     {"cancel restore", "failed 3: timeout; retrying in 200 ms", "timer 200 ms #3"}, "retrying"},
    {retry_timer(3, 330ms), {"takeover 4", "restore 4"}, "restoring"},
    {restored(400ms), {"subscribe", "taken 4 in 70 ms"}, "active"},
  });
}

TEST_CASE("a failure while active requeues what is unconfirmed, and the retry claims again or releases") {
  play(after(taken_at_epoch_1, {
    {failed("connection lost", 30s),
     {"close consumer", "drop state", "failed 1: connection lost; retrying in 0 ms", "timer 0 ms #1"},
     "retrying"},
    {retry_timer(1, 30s), {"takeover 2", "restore 2"}, "restoring"},
  }));
  play(after(taken_at_epoch_1, {
    {failed("connection lost", 30s),
     {"close consumer", "drop state", "failed 1: connection lost; retrying in 0 ms", "timer 0 ms #1"},
     "retrying"},
    {unassigned(), {}, "retrying"},
    {retry_timer(1, 30s), {"release 1"}, "releasing"},
    {failed("broker down", 31s), {"failed 1: broker down; retrying in 0 ms", "timer 0 ms #2"}, "retrying"},
    {retry_timer(2, 31s), {"release 1"}, "releasing"},
    {release_confirmed(32s), {"released 1"}, "standby"},
  }));
}

TEST_CASE("a failure during the handover requeues, then releases without acknowledging") {
  play(after(taken_at_epoch_1, {
    {unassigned(), {"cancel consumer"}, "draining"},
    {drained(), {"final checkpoint 1"}, "checkpointing"},
    {failed("checkpoint nacked", 20s),
     {"close consumer", "drop state", "failed 1: checkpoint nacked; retrying in 0 ms", "timer 0 ms #1"},
     "retrying"},
    {checkpoint_confirmed(), {}, "retrying"},
    {retry_timer(1, 20s), {"release 1"}, "releasing"},
  }));
}

TEST_CASE("a newer claim while waiting to retry cancels the retry") {
  play({
    {assigned(), {"takeover 1", "restore 1"}, "restoring"},
    {failed("gap", 10ms), {"cancel restore", "failed 1: gap; retrying in 0 ms", "timer 0 ms #1"}, "retrying"},
    {takeover("b", 2), {"fenced 1: taken over by b with epoch 2"}, "awaiting_release"},
    {retry_timer(1, 10ms), {}, "awaiting_release"},
  });
}

TEST_CASE("outcomes that arrive in the wrong phase change nothing") {
  play({
    {restored(1s), {}, "standby"},
    {claim_lost("b", 3), {}, "standby"},
    {drained(), {}, "standby"},
    {checkpoint_confirmed(), {}, "standby"},
    {release_confirmed(), {}, "standby"},
    {failed("late", 1s), {}, "standby"},
    {retry_timer(0, 1s), {}, "standby"},
    {unassigned(), {}, "standby"},
  });
  play(after(taken_at_epoch_1, {
    {assigned(), {}, "active"},
    {restored(1s), {}, "active"},
    {drained(), {}, "active"},
    {checkpoint_confirmed(), {}, "active"},
    {release_confirmed(), {}, "active"},
    {gone("a"), {}, "active"},
  }));
}

TEST_CASE("each phase reports as one of the four states of GET /api/shards") {
  shard_handover h{"a"};
  auto state = [&] { return std::string{h.reported_state()}; };
  CHECK(state() == "standby");
  h.on_takeover_seen("b", 1, t0);
  h.on_assigned(t0);
  CHECK(state() == "standby");  // awaiting_release
  h.on_node_gone("b", t0);
  CHECK(state() == "restoring");
  h.on_failed("gap", t0);
  CHECK(state() == "restoring");  // retrying, assigned
  h.on_unassigned();
  CHECK(state() == "handing_over");  // retrying, to release
  h.on_assigned(t0);
  h.on_retry_timer(1, t0);
  h.on_restored(t0);
  CHECK(state() == "active");
  h.on_unassigned();
  CHECK(state() == "handing_over");  // draining
  h.on_drained();
  CHECK(state() == "handing_over");  // checkpointing
  h.on_final_checkpoint_confirmed();
  CHECK(state() == "handing_over");  // releasing
  h.on_release_confirmed(t0);
  CHECK(state() == "standby");
  CHECK(h.holder() == shard_holder{3, "a", false});
}

} // namespace shard_handover_test
