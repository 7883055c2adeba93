// `telluride config set`: local validation, the control message, and --wait's answers. A fake
// daemon stands in for the real one: it consumes the control queue and publishes the
// pipeline events the daemon would.
#include "e2e_support.hpp"

#include "telluride/tools/config_event_match.hpp"

#include <doctest/doctest.h>

#include <mutex>

using namespace e2e;
using telluride::tools::config_outcome;
using telluride::tools::match_config_event;

namespace {

/// Answers each control message on the pipeline-events route, as told.
class fake_daemon {
public:
  enum class answer { applied_with_correlation_id, applied_without_correlation_id, rejected };

  fake_daemon(const test_routes& routes, answer how)
    : how_(how), exchange_(routes.name("events_exchange")), routing_key_("broadway.event") {
    broker_admin admin;
    admin.declare_exchange(routes.name("exchange"));
    admin.declare_exchange(exchange_);
    admin.declare_queue(routes.name("control_queue"), routes.name("exchange"), "sensor.config");
    telluride::tools::tap_options options;
    options.connection.url = broker_url();
    options.connection.name = unique_name("e2e-fake-daemon");
    options.queue = routes.name("control_queue");
    auto tap = telluride::tools::queue_tap::open(std::move(options));
    REQUIRE_MESSAGE(tap, (tap ? "" : tap.err().message));
    tap_ = std::move(*tap);
    amqp::publisher_options pub_options;
    pub_options.connection.url = broker_url();
    pub_options.connection.name = unique_name("e2e-fake-daemon-events");
    auto pub = amqp::publisher::open(pub_options);
    REQUIRE_MESSAGE(pub, (pub ? "" : pub.err().message));
    publisher_ = std::move(*pub);
    thread_ = std::thread([this] { loop(); });
  }
  ~fake_daemon() {
    stop_ = true;
    thread_.join();
  }

  std::vector<received> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

private:
  void loop() {
    while (!stop_) {
      auto messages = tap_->take(50ms);
      for (const auto& m : messages) {
        received r{m.data, std::string(m.metadata.get("message_id")), std::string(m.metadata.get("correlation_id")),
                   std::string(m.metadata.get("content_type")), std::string(m.metadata.get("routing_key")),
                   std::string(m.metadata.get("headers"))};
        {
          std::lock_guard lock(mutex_);
          seen_.push_back(r);
        }
        answer_to(r);
      }
      tap_->acknowledge(messages);
    }
  }

  void answer_to(const received& control) {
    auto change = nlohmann::json::parse(control.body, nullptr, false);
    nlohmann::json config = {{"processor_concurrency", 2}, {"prefetch_count", 1000}};
    nlohmann::json unrelated_config = config;
    if (change.is_object())
      for (const auto& [key, value] : change.items())
        config[key] = value;
    std::vector<nlohmann::json> events;
    switch (how_) {
      case answer::applied_with_correlation_id:
        events.push_back({{"event", "config_applied"}, {"version", 7}, {"config", config}, {"drain_ms", 1},
                          {"correlation_id", "someone-else"}});
        events.push_back({{"event", "config_applied"}, {"version", 8}, {"config", config}, {"drain_ms", 2},
                          {"correlation_id", control.correlation_id}});
        break;
      case answer::applied_without_correlation_id:
        events.push_back({{"event", "pipeline_started"}});
        events.push_back({{"event", "config_applied"}, {"version", 2}, {"config", unrelated_config}, {"drain_ms", 1}});
        events.push_back({{"event", "config_applied"}, {"version", 3}, {"config", config}, {"drain_ms", 1}});
        break;
      case answer::rejected:
        events.push_back({{"event", "config_rejected"}, {"reason", "someone else's change"},
                          {"correlation_id", "someone-else"}});
        events.push_back({{"event", "config_rejected"}, {"reason", "simulated: processor_concurrency too high"},
                          {"correlation_id", control.correlation_id}});
        break;
    }
    amqp::message_properties props;
    props.content_type = "application/json";
    for (const auto& e : events)
      publisher_->publish(exchange_, routing_key_, e.dump(), props);
    publisher_->wait_confirmed(10s);
  }

  answer how_;
  std::string exchange_;
  std::string routing_key_;
  std::unique_ptr<telluride::tools::queue_tap> tap_;
  std::shared_ptr<amqp::publisher> publisher_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<received> seen_;
  std::thread thread_;
};

} // namespace

TEST_CASE("config events match by correlation_id when they carry one, else by content") {
  const nlohmann::json change = {{"processor_concurrency", 4}};
  const nlohmann::json applied_config = {{"processor_concurrency", 4}, {"prefetch_count", 1000}};
  struct row {
    const char* what;
    nlohmann::json event;
    config_outcome expected;
  } table[] = {
    {"applied, our id", {{"event", "config_applied"}, {"config", applied_config}, {"correlation_id", "c1"}},
     config_outcome::applied},
    {"applied, other id, same content",
     {{"event", "config_applied"}, {"config", applied_config}, {"correlation_id", "c2"}}, config_outcome::unrelated},
    {"rejected, our id", {{"event", "config_rejected"}, {"reason", "r"}, {"correlation_id", "c1"}},
     config_outcome::rejected},
    {"rejected, other id", {{"event", "config_rejected"}, {"reason", "r"}, {"correlation_id", "c2"}},
     config_outcome::unrelated},
    {"applied, no id, holds the change", {{"event", "config_applied"}, {"config", applied_config}},
     config_outcome::applied},
    {"applied, no id, other value",
     {{"event", "config_applied"}, {"config", {{"processor_concurrency", 3}}}}, config_outcome::unrelated},
    {"applied, no id, null id", {{"event", "config_applied"}, {"config", applied_config}, {"correlation_id", nullptr}},
     config_outcome::applied},
    {"rejected, no id: the first one counts", {{"event", "config_rejected"}, {"reason", "r"}},
     config_outcome::rejected},
    {"another event", {{"event", "pipeline_started"}}, config_outcome::unrelated},
    {"not an object", nlohmann::json::array({1, 2}), config_outcome::unrelated},
  };
  for (const auto& r : table) {
    const std::string what = r.what;
    CAPTURE(what);
    CHECK(match_config_event(r.event, "c1", change) == r.expected);
  }
}

TEST_CASE("config set without --wait publishes one persistent JSON message with message and correlation ids") {
  test_routes routes("config-plain");
  auto result = run(telluride_command({"config", "set", "processor_concurrency=4", "batch_timeout_ms=250", "--config",
                               routes.path()},
                              20s));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.empty());
  broker_admin admin;
  const auto queue = routes.name("control_queue");
  REQUIRE(admin.wait_for_count(queue, 1) == 1);
  auto messages = admin.drain(queue, 1);
  REQUIRE(messages.size() == 1);
  CHECK(nlohmann::json::parse(messages[0].body) ==
        nlohmann::json{{"processor_concurrency", 4}, {"batch_timeout_ms", 250}});
  CHECK(messages[0].content_type == "application/json");
  CHECK_FALSE(messages[0].message_id.empty());
  CHECK(messages[0].correlation_id == messages[0].message_id);
}

TEST_CASE("config set --wait prints the config_applied event carrying our correlation_id and exits 0") {
  test_routes routes("config-applied");
  fake_daemon daemon(routes, fake_daemon::answer::applied_with_correlation_id);
  auto result = run(telluride_command({"config", "set", "processor_concurrency=4", "--wait", "20", "--config", routes.path()},
                              30s));
  INFO(result.err);
  CHECK(result.exit_code == 0);
  auto lines = split_lines(result.out);
  REQUIRE(lines.size() == 1);
  auto event = nlohmann::json::parse(lines[0]);
  CHECK(event["event"] == "config_applied");
  CHECK(event["version"] == 8);
  CHECK(event["config"]["processor_concurrency"] == 4);
  auto seen = daemon.seen();
  REQUIRE(seen.size() == 1);
  CHECK(event["correlation_id"] == seen[0].correlation_id);
}

TEST_CASE("config set --wait matches a config_applied without correlation_id by its content") {
  test_routes routes("config-content");
  fake_daemon daemon(routes, fake_daemon::answer::applied_without_correlation_id);
  auto result = run(telluride_command({"config", "set", "processor_concurrency=4", "prefetch_count=500", "--wait", "20",
                               "--config", routes.path()},
                              30s));
  INFO(result.err);
  CHECK(result.exit_code == 0);
  auto lines = split_lines(result.out);
  REQUIRE(lines.size() == 1);
  auto event = nlohmann::json::parse(lines[0]);
  CHECK(event["version"] == 3);
  CHECK(event["config"]["prefetch_count"] == 500);
}

TEST_CASE("config set --wait exits 1 with the daemon's config_rejected event") {
  test_routes routes("config-rejected");
  fake_daemon daemon(routes, fake_daemon::answer::rejected);
  auto result = run(telluride_command({"config", "set", "processor_concurrency=1024", "--wait", "20", "--config", routes.path()},
                              30s));
  INFO(result.err);
  CHECK(result.exit_code == 1);
  auto lines = split_lines(result.out);
  REQUIRE(lines.size() == 1);
  auto event = nlohmann::json::parse(lines[0]);
  CHECK(event["event"] == "config_rejected");
  CHECK(event["reason"] == "simulated: processor_concurrency too high");
}

TEST_CASE("config set --wait exits 3 with one line when no daemon answers") {
  test_routes routes("config-timeout");
  auto started = std::chrono::steady_clock::now();
  auto result = run(telluride_command({"config", "set", "prefetch_count=10", "--wait", "1", "--config", routes.path()}, 20s));
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(result.exit_code == 3);
  CHECK(result.out.empty());
  CHECK(split_lines(result.err).size() == 1);
  CHECK(seconds < 10);
  // The change waits in the control queue for the daemon.
  broker_admin admin;
  CHECK(admin.wait_for_count(routes.name("control_queue"), 1) == 1);
}

TEST_CASE("an invalid change is rejected (exit 1) before anything is sent") {
  test_routes routes("config-invalid");
  auto result = run(telluride_command({"config", "set", "processor_concurrency=0", "--wait", "5", "--config", routes.path()}, 20s));
  CHECK(result.exit_code == 1);
  CHECK(result.err == "telluride config set: processor_concurrency must be an integer in 1..1024, got 0\n");
  broker_admin admin;
  CHECK(admin.message_count(routes.name("control_queue")) == -1);  // never even declared
}
