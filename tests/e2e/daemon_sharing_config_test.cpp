// Reconfiguring daemons that share the shards (docs/sharding.md, Reconfiguring daemons that
// share the shards): every daemon applies every reconfiguration published to the control
// route, in the order published; when the daemon forwarding the control queue dies another
// takes over, and a daemon started again under its node name applies what was forwarded while
// it was down.
#include "shard_members.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <unistd.h>

// Its own namespace: the unity build compiles several test files as one.
namespace daemon_sharing_config_test {

using namespace telluride::test;

nlohmann::json config_of(int port) {
  auto reply = http_request(port, "GET", "/api/config");
  return reply.status == 200 ? nlohmann::json::parse(reply.body) : nlohmann::json{};
}

/// Whether the daemon on `port` runs configuration `version` with processor_concurrency `n`.
bool runs(int port, int version, int n) {
  auto c = config_of(port);
  return !c.is_null() && c["version"] == version && c["config"]["processor_concurrency"] == n;
}

/// The concurrency values of the "configuration version N applied" lines of `log`, in order.
std::vector<int> applied_in_order(const std::string& log) {
  std::vector<int> out;
  const std::string key = "\"processor_concurrency\":";
  for (auto at = log.find(" applied (drain "); at != std::string::npos; at = log.find(" applied (drain ", at + 1)) {
    auto k = log.find(key, at);
    if (k == std::string::npos)
      break;
    out.push_back(std::stoi(log.substr(k + key.size())));
  }
  return out;
}

TEST_CASE("with shards 4 each of two daemons applies every reconfiguration once, in the order published") {
  const auto id = std::to_string(::getpid());
  daemon_process a{"fwda" + id, {{"shards", 4}, {"state", "memory"}}};
  daemon_process b{"fwdb" + id};
  launch_member(a, a, "fwd-a-" + id);
  launch_member(b, a, "fwd-b-" + id);
  REQUIRE(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 20s));
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  const std::vector<int> values{3, 5, 2};
  for (std::size_t i = 0; i < values.size(); ++i)
    send_control(s, a, R"({"processor_concurrency": )" + std::to_string(values[i]) + "}",
                 "fwd-" + id + "-" + std::to_string(i));
  CHECK(eventually([&] { return runs(a.port(), 3, 2) && runs(b.port(), 3, 2); }, 30s));
  for (auto* d : {&a, &b}) {
    INFO(d->log());
    CHECK(applied_in_order(d->log()) == values);
  }
  // Nothing is left in the control queue, and nothing applied twice (still version 3).
  e2e::broker_admin admin;
  CHECK(admin.message_count(a.route("control_queue")) == 0);
  std::this_thread::sleep_for(1s);
  CHECK(runs(a.port(), 3, 2));
  CHECK(runs(b.port(), 3, 2));
  CHECK(a.stop() == std::optional<int>{0});
  CHECK(b.stop() == std::optional<int>{0});
}

TEST_CASE("the forwarding daemon killed: the other forwards, and the killed one started again catches up") {
  const auto id = std::to_string(::getpid());
  daemon_process a{"fwdka" + id, {{"shards", 4}, {"state", "memory"}}};
  daemon_process b{"fwdkb" + id};
  const std::string name_a = "fwdk-a-" + id;
  const std::string name_b = "fwdk-b-" + id;
  launch_member(a, a, name_a);
  REQUIRE(eventually([&] { return active_shards(a.port()).size() == 4; }, 20s));
  launch_member(b, a, name_b);  // a holds the forwarding lock: it started first
  REQUIRE(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 20s));
  CHECK(eventually([&] { return b.log().find("another daemon forwards the control queue") != std::string::npos; },
                   10s));
  // Standing by for the forwarding lock is how it should be: said at info, not as a warning.
  CHECK(b.log().find(" info amqp connection 'telluride-control-forwarder': channel 1 closed: another daemon "
                     "forwards") != std::string::npos);
  CHECK(b.log().find("warning amqp connection 'telluride-control-forwarder'") == std::string::npos);
  CHECK(a.stop(SIGKILL) == std::optional<int>{128 + SIGKILL});

  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  send_control(s, a, R"({"processor_concurrency": 6})", "fwdk-" + id);
  CHECK(eventually([&] { return runs(b.port(), 1, 6); }, 20s));
  e2e::broker_admin admin;
  CHECK(admin.message_count(a.route("control_queue")) == 0);

  // a's own queue kept what was forwarded while it was down: started again under its name,
  // it applies it too.
  launch_member(a, a, name_a);
  CHECK(eventually([&] { return runs(a.port(), 1, 6); }, 30s));
  CHECK(runs(b.port(), 1, 6));
  CHECK(a.stop() == std::optional<int>{0});
  CHECK(b.stop() == std::optional<int>{0});
}

TEST_CASE("with shards 4 and two daemons an invalid reconfiguration is refused once: one event, one dead letter") {
  const auto id = std::to_string(::getpid());
  daemon_process a{"fwdra" + id, {{"shards", 4}, {"state", "memory"}}};
  daemon_process b{"fwdrb" + id};
  launch_member(a, a, "fwdr-a-" + id);
  launch_member(b, a, "fwdr-b-" + id);
  REQUIRE(eventually([&] { return shards_split({a.port(), b.port()}, 4); }, 20s));
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  send_control(s, a, R"({"processor_concurrency": 0})", "fwdr-bad-" + id);
  send_control(s, a, R"({"processor_concurrency": 3})", "fwdr-good-" + id);
  // The valid one after it is applied by both: the invalid one was handled before it.
  CHECK(eventually([&] { return runs(a.port(), 1, 3) && runs(b.port(), 1, 3); }, 30s));
  event_view events;
  CHECK(eventually([&] { events.update(s, a); return events.named("config_applied").size() == 2; }, 10s));
  auto rejected = events.named("config_rejected");
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0]["reason"] == "processor_concurrency must be an integer in 1..1024, got 0");
  CHECK(rejected[0]["correlation_id"] == "fwdr-bad-" + id);
  e2e::broker_admin admin;
  CHECK(admin.message_count(a.route("dead_letter_queue")) == 1);
  CHECK(a.stop() == std::optional<int>{0});
  CHECK(b.stop() == std::optional<int>{0});
}

} // namespace daemon_sharing_config_test
