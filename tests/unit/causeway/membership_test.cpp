// Claims about membership: who is live after which heartbeats, and what each call reports.
// Each case is a script on a virtual clock, played by the view of process "me" (start id 1)
// started at t0: heartbeats and expiries, each with the changes it must return (short strings:
// "joined a#1" is process a with start id 1) and the live names it must leave.
#include "causeway/sharding/membership.hpp"

#include "string_makers.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace membership_test {

using namespace std::chrono_literals;
using namespace causeway::sharding;

namespace {

using clock_type = membership::clock;
const clock_type::time_point t0 = clock_type::time_point{} + 1h;

using strings = std::vector<std::string>;

strings describe(const member_changes& changes) {
  const char* names[] = {"joined", "left", "clashed"};
  strings out;
  for (const auto& c : changes)
    out.push_back(std::string{names[static_cast<int>(c.what)]} + " " + c.name + "#" +
                  std::to_string(c.start_id));
  return out;
}

membership view(membership_options options = {}) {
  auto m = membership::create("me", 1, t0, options);
  REQUIRE(m.has_value());
  return std::move(*m);
}

using event = std::function<strings(membership&)>;

/// A heartbeat of (name, start id) at t0 + t.
event beat(std::string name, std::uint64_t id, std::chrono::milliseconds t) {
  return [=](membership& m) {
    auto changes = m.heard(name, id, t0 + t);
    REQUIRE(changes.has_value());
    return describe(*changes);
  };
}
event expire(std::chrono::milliseconds t) {
  return [=](membership& m) { return describe(m.expire(t0 + t)); };
}
/// The view's own heartbeat, back through the broker at t0 + t, then expire.
event tick(std::chrono::milliseconds t) {
  return [=](membership& m) {
    auto own = m.heard("me", 1, t0 + t);
    REQUIRE(own.has_value());
    CHECK(own->empty());
    return describe(m.expire(t0 + t));
  };
}

struct step {
  event what;
  strings changes;
  strings live;
};

void play(membership& m, const std::vector<step>& script) {
  for (std::size_t i = 0; i < script.size(); ++i) {
    CAPTURE(i);
    CHECK(script[i].what(m) == script[i].changes);
    CHECK(m.live() == script[i].live);
  }
}

void play(const std::vector<step>& script) {
  auto m = view();
  play(m, script);
}

} // namespace

TEST_CASE("new names join, known processes only refresh, and the live set is sorted") {
  auto m = view();
  CHECK(m.live() == strings{"me"});
  play(m, {
    {beat("node-b", 7, 0ms), {"joined node-b#7"}, {"me", "node-b"}},
    {beat("node-a", 3, 100ms), {"joined node-a#3"}, {"me", "node-a", "node-b"}},
    {beat("node-b", 7, 1000ms), {}, {"me", "node-a", "node-b"}},
    {beat("node-c", 1, 1100ms), {"joined node-c#1"}, {"me", "node-a", "node-b", "node-c"}},
    {tick(1200ms), {}, {"me", "node-a", "node-b", "node-c"}},
  });
  CHECK(m.start_id_of("node-a") == std::optional<std::uint64_t>{3});
  CHECK(m.start_id_of("node-x") == std::nullopt);
}

TEST_CASE("a member not heard from for 5 s leaves, exactly when 5 s have passed") {
  play({
    {beat("a", 1, 0ms), {"joined a#1"}, {"a", "me"}},
    {beat("b", 2, 0ms), {"joined b#2"}, {"a", "b", "me"}},
    {beat("a", 1, 1000ms), {}, {"a", "b", "me"}},
    {tick(4999ms), {}, {"a", "b", "me"}},
    {tick(5000ms), {"left b#2"}, {"a", "me"}},
    {tick(5999ms), {}, {"a", "me"}},
    {tick(6000ms), {"left a#1"}, {"me"}},
    {tick(60s), {}, {"me"}},  // the view's own process never leaves
  });
}

TEST_CASE("members that lapse together leave together, by name") {
  play({
    {beat("c", 1, 0ms), {"joined c#1"}, {"c", "me"}},
    {beat("a", 2, 10ms), {"joined a#2"}, {"a", "c", "me"}},
    {beat("b", 3, 20ms), {"joined b#3"}, {"a", "b", "c", "me"}},
    {tick(7000ms), {"left a#2", "left b#3", "left c#1"}, {"me"}},
  });
}

TEST_CASE("a view that hears nobody, not even itself, judges nobody until it hears again") {
  // e.g. its process stalled, or its connection is down: the silence is on its side.
  play({
    {beat("a", 1, 0ms), {"joined a#1"}, {"a", "me"}},
    {expire(1999ms), {}, {"a", "me"}},
    {expire(7000ms), {}, {"a", "me"}},        // deaf since 2000 ms
    {beat("a", 1, 7100ms), {}, {"a", "me"}},  // the backlog arrives
    {expire(7200ms), {}, {"a", "me"}},
    {tick(12100ms), {"left a#1"}, {"me"}},
  });
}

TEST_CASE("a lapsed member heard again joins again with the same start id") {
  // e.g. a partition between it and the broker, longer than the lapse: the process lived on.
  play({
    {beat("a", 1, 0ms), {"joined a#1"}, {"a", "me"}},
    {tick(5000ms), {"left a#1"}, {"me"}},
    {beat("a", 1, 8000ms), {"joined a#1"}, {"a", "me"}},
  });
}

TEST_CASE("a restart under the same name is the old process leaving and the new one joining") {
  auto m = view();
  play(m, {
    {beat("a", 1, 0ms), {"joined a#1"}, {"a", "me"}},
    {beat("a", 2, 1500ms), {"left a#1", "joined a#2"}, {"a", "me"}},
    {beat("a", 2, 2500ms), {}, {"a", "me"}},
    {beat("a", 3, 3000ms), {"left a#2", "joined a#3"}, {"a", "me"}},
  });
  CHECK(m.start_id_of("a") == std::optional<std::uint64_t>{3});
}

TEST_CASE("an old process heard again after a restart is a clash, reported once and ignored") {
  play({
    {beat("a", 1, 0ms), {"joined a#1"}, {"a", "me"}},
    {beat("a", 2, 500ms), {"left a#1", "joined a#2"}, {"a", "me"}},
    {beat("a", 1, 1000ms), {"clashed a#1"}, {"a", "me"}},
    {beat("a", 1, 2000ms), {}, {"a", "me"}},
    {beat("a", 2, 2500ms), {}, {"a", "me"}},
    // only process 2's heartbeats keep the name alive
    {beat("a", 1, 7000ms), {}, {"a", "me"}},
    {tick(7500ms), {"left a#2"}, {"me"}},
  });
}

TEST_CASE("another process with this view's own name is a clash") {
  play({
    {beat("me", 9, 100ms), {"clashed me#9"}, {"me"}},
    {beat("me", 9, 1100ms), {}, {"me"}},
    {beat("me", 8, 1200ms), {"clashed me#8"}, {"me"}},
    {tick(1300ms), {}, {"me"}},
  });
}

TEST_CASE("a heartbeat that arrives late does not move the last one back") {
  play({
    {beat("a", 1, 3000ms), {"joined a#1"}, {"a", "me"}},
    {beat("a", 1, 1000ms), {}, {"a", "me"}},
    {tick(7999ms), {}, {"a", "me"}},
    {tick(8000ms), {"left a#1"}, {"me"}},
  });
}

TEST_CASE("next_lapse is when the other member heard least recently lapses") {
  auto m = view();
  CHECK(m.next_lapse() == std::nullopt);
  m.heard("a", 1, t0 + 2s);
  m.heard("b", 1, t0 + 1s);
  CHECK(m.next_lapse() == t0 + 6s);
  m.heard("b", 1, t0 + 3s);
  CHECK(m.next_lapse() == t0 + 7s);
}

TEST_CASE("a holder is gone when it is not live, and the view hears and has listened for a lapse") {
  auto m = view();
  m.heard("a", 1, t0 + 1s);
  CHECK(!m.is_gone("a", t0 + 1s));
  CHECK(!m.is_gone("never-heard", t0 + 4999ms));  // it may simply not have been heard yet
  m.heard("me", 1, t0 + 5s);
  CHECK(m.is_gone("never-heard", t0 + 5s));
  CHECK(!m.is_gone("never-heard", t0 + 7s));      // deaf: the silence may be ours
  m.heard("me", 1, t0 + 6s);
  m.expire(t0 + 6s);
  CHECK(!m.is_live("a"));
  CHECK(m.is_gone("a", t0 + 6s));
  CHECK(!m.is_gone("me", t0 + 6s));
}

TEST_CASE("bad heartbeats are refused with one line and change nothing") {
  auto m = view({2000ms, 3, 2000ms});
  m.heard("a", 1, t0);
  m.heard("b", 1, t0);
  CHECK(m.heard("", 1, t0).err().message == "membership: a heartbeat's node name is empty");
  CHECK(m.heard(std::string(256, 'n'), 1, t0).err().message ==
        "membership: a heartbeat's node name has 256 bytes, more than 255");
  CHECK(m.heard("bad\xff", 1, t0).err().message ==
        "membership: a heartbeat's node name is not UTF-8: \"bad\xEF\xBF\xBD\"");
  CHECK(m.heard("c", 1, t0).err().message ==
        "membership: 3 members already, the heartbeat of \"c\" is refused");
  CHECK(m.live() == strings{"a", "b", "me"});
  // the custom lapse applies
  CHECK(describe(m.expire(t0 + 1999ms)).empty());
  m.heard("me", 1, t0 + 2s);
  CHECK(describe(m.expire(t0 + 2s)) == strings{"left a#1", "left b#1"});
  CHECK(m.heard("c", 1, t0 + 2s).has_value());
}

TEST_CASE("a bad own name or options out of range are refused") {
  CHECK(membership::create("", 1, t0).err().message == "membership: the node name is empty");
  CHECK(membership::create("me", 1, t0, {0ms, 8, 2000ms}).err().message ==
        "membership: lapse must be positive, got 0 ms");
  CHECK(membership::create("me", 1, t0, {5000ms, 0, 2000ms}).err().message ==
        "membership: max_members must be at least 1, got 0");
  CHECK(membership::create("me", 1, t0, {5000ms, 8, 0ms}).err().message ==
        "membership: deaf_after must be positive, got 0 ms");
}

} // namespace membership_test
