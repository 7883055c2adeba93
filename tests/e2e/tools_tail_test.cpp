// `telluride tail`: one JSON object per line, from a private copy of the route by default.
#include "e2e_support.hpp"

#include <doctest/doctest.h>

using namespace e2e;

namespace {

/// Waits until the tail process `pid` has its private queue (named telluride-tap.<pid>.*):
/// from then on it sees everything published to its route.
bool wait_for_private_queue(pid_t pid, std::chrono::milliseconds timeout = 30s) {
  const std::string prefix = "telluride-tap." + std::to_string(pid) + ".";
  return wait_until([&] {
    for (const auto& name : list_queue_names())
      if (name.starts_with(prefix))
        return true;
    return false;
  }, timeout, 100ms);
}

bool has_private_queue(pid_t pid) {
  const std::string prefix = "telluride-tap." + std::to_string(pid) + ".";
  for (const auto& name : list_queue_names())
    if (name.starts_with(prefix))
      return true;
  return false;
}

std::vector<std::string> numbered_events(int first, int count) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i)
    out.push_back(nlohmann::json{{"event", "test_event"}, {"n", i}, {"nested", {{"a", 1}}}}.dump());
  return out;
}

} // namespace

TEST_CASE("tail --count 3 prints exactly 3 compact JSON lines and leaves the durable queue alone") {
  test_routes routes("tail-count");
  broker_admin admin;
  const auto exchange = routes.name("events_exchange");
  const auto durable = routes.name("events_queue");
  admin.declare_exchange(exchange);
  admin.declare_queue(durable, exchange, "broadway.event");
  admin.publish(exchange, "broadway.event", numbered_events(100, 2));  // before tail: not its business
  REQUIRE(admin.wait_for_count(durable, 2) == 2);

  child_process tail(telluride_command({"tail", "events", "--count", "3", "--config", routes.path()}, 45s));
  REQUIRE(wait_for_private_queue(tail.pid()));
  admin.publish(exchange, "broadway.event", numbered_events(0, 5));
  auto result = tail.wait(20s);
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  auto lines = split_lines(result.out);
  REQUIRE(lines.size() == 3);
  for (int i = 0; i < 3; ++i) {
    auto event = nlohmann::json::parse(lines[static_cast<std::size_t>(i)]);
    CHECK(event["n"] == i);
    CHECK(lines[static_cast<std::size_t>(i)] == R"({"event":"test_event","n":)" + std::to_string(i) +
                                                    R"(,"nested":{"a":1}})");
  }
  // The durable queue got every event and lost none to tail.
  CHECK(admin.wait_for_count(durable, 7) == 7);
  CHECK_FALSE(has_private_queue(tail.pid()));  // exclusive, auto-deleted
}

TEST_CASE("tail --from-queue consumes and acks the durable queue, and --pretty indents") {
  test_routes routes("tail-queue");
  broker_admin admin;
  const auto exchange = routes.name("exchange");
  const auto durable = routes.name("alerts_queue");
  admin.declare_exchange(exchange);
  admin.declare_queue(durable, exchange, "sensor.alert");
  admin.publish(exchange, "sensor.alert", numbered_events(0, 4));
  REQUIRE(admin.wait_for_count(durable, 4) == 4);

  auto result = run(telluride_command({"tail", "alerts", "--from-queue", "--count", "3", "--pretty", "--config", routes.path()}, 30s));
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.starts_with("{\n  \"event\": \"test_event\",\n  \"n\": 0,"));
  CHECK(std::count(result.out.begin(), result.out.end(), '{') == 6);  // 3 objects with one nested each
  CHECK(admin.wait_for_count(durable, 1) == 1);  // the fourth is back in the queue
}

TEST_CASE("tail --from-queue on a queue that does not exist is a one-line error") {
  test_routes routes("tail-missing");
  auto result = run(telluride_command({"tail", "metrics", "--from-queue", "--config", routes.path()}, 20s));
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(split_lines(result.err).size() == 1);
  CHECK(result.err.find(routes.name("metrics_queue")) != std::string::npos);
}

TEST_CASE("tail ends cleanly when its reader goes away (| head -1) and on SIGINT") {
  test_routes routes("tail-pipe");
  broker_admin admin;
  const auto exchange = routes.name("events_exchange");
  admin.declare_exchange(exchange);

  SUBCASE("a closed pipe") {
    command cmd;
    cmd.args = {"/bin/bash", "-c",
                "set -o pipefail; " + shell_quote(telluride_bin()) + " tail events --config " + shell_quote(routes.path()) +
                  " | head -1"};
    cmd.env.emplace_back("TELLURIDE_AMQP_URL", broker_url());
    cmd.timeout = 45s;
    child_process pipeline(std::move(cmd));
    // tail is the shell's child.
    pid_t tail_pid = 0;
    REQUIRE(wait_until([&] {
      auto pids = child_pids(pipeline.pid(), "telluride");
      tail_pid = pids.empty() ? 0 : pids.front();
      return tail_pid != 0;
    }, 10s));
    REQUIRE(wait_for_private_queue(tail_pid));
    admin.publish(exchange, "broadway.event", numbered_events(0, 5));
    auto result = pipeline.wait(20s);
    INFO(result.err);
    CHECK(result.exit_code == 0);  // pipefail: tail's own exit code is 0 too
    CHECK(result.err.empty());
    REQUIRE(split_lines(result.out).size() == 1);
    CHECK(nlohmann::json::parse(result.out)["n"] == 0);
  }

  SUBCASE("SIGINT") {
    child_process tail(telluride_command({"tail", "events", "--config", routes.path()}, 45s));
    REQUIRE(wait_for_private_queue(tail.pid()));
    tail.send_signal(SIGINT);
    auto result = tail.wait(10s);
    CHECK(result.exit_code == 0);
    CHECK(result.err.empty());
    CHECK(result.out.empty());
    CHECK_FALSE(has_private_queue(tail.pid()));
  }
}

TEST_CASE("tail prints a body that is not JSON as a JSON string, one line") {
  test_routes routes("tail-text");
  broker_admin admin;
  const auto exchange = routes.name("exchange");
  const auto durable = routes.name("dead_letter_queue");
  admin.declare_exchange(exchange);
  admin.declare_queue(durable, exchange, "dlx_key");
  admin.publish(exchange, "dlx_key", {"not json\nat all"});
  auto result = run(telluride_command({"tail", "dead_letters", "--from-queue", "--count", "1", "--config", routes.path()}, 20s));
  CHECK(result.exit_code == 0);
  CHECK(result.out == "\"not json\\nat all\"\n");
}
