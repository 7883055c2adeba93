// Fault matrix: reconfigurations one after another while readings flow. Each is applied in
// order (a config_applied event with the next version), the readings are counted exactly, and
// the daemon is consuming and ready after the last.
#include "fault_checks.hpp"

using namespace fault_test;

namespace {

/// The i-th change: every reconfigurable stage setting moves, some of them each time.
nlohmann::json change(int i) {
  return {{"processor_concurrency", 1 + i % 4},
          {"sensor_batcher_one_batch_size", 1 + (i * 37) % 300},
          {"sensor_batcher_two_concurrency", 1 + i % 3},
          {"batch_timeout_ms", 5 + (i * 13) % 100},
          {"prefetch_count", i % 2 == 0 ? 200 : 1000},
          {"producer_concurrency", 1 + i % 2}};
}

void reconfigurations_under_load(int count) {
  daemon_process d{"reconf" + std::to_string(::getpid())};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  amqp_session control{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  const std::size_t per_change = 400;
  const std::size_t total = per_change * static_cast<std::size_t>(count) + 4000;
  reading_set set{300, total, 97, "reconf"};
  std::string control_error;  // what stopped the reconfiguring thread, if anything
  std::thread reconfigure{[&] {
    try {
      for (int i = 0; i < count; ++i) {
        std::this_thread::sleep_for(100ms);
        send_control(control, d, change(i).dump(), "change-" + std::to_string(i));
      }
    } catch (const std::exception& e) {
      control_error = e.what();
    }
  }};
  for (std::size_t from = 0; from < total; from += 1000) {
    publish_readings(s, d, set, from, std::min(total, from + 1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * count / static_cast<int>(total / 1000)));
  }
  reconfigure.join();
  REQUIRE_MESSAGE(control_error.empty(), "publishing the reconfigurations: " << control_error);

  event_view events;
  CHECK(eventually([&] { events.update(s, d); return events.named("config_applied").size() >= static_cast<std::size_t>(count); },
                   std::chrono::seconds(60 + count)));
  auto applied = events.named("config_applied");
  CHECK(applied.size() == static_cast<std::size_t>(count));
  CHECK(events.named("config_rejected").empty());
  for (std::size_t i = 0; i < applied.size(); ++i) {
    CHECK(applied[i]["version"] == i + 1);
    CHECK(applied[i]["correlation_id"] == "change-" + std::to_string(i));
  }
  auto config = nlohmann::json::parse(http_request(d.port(), "GET", "/api/config").body);
  CHECK(config["version"] == count);
  const auto last = change(count - 1);
  for (const auto& [key, value] : last.items())
    CHECK_MESSAGE(config["config"][key] == value, key << " in " << config.dump());

  check_counts_exact(s, d, set.expected(total), total, 0);
  CHECK(metric_of(d.port(), "telluride_readings_duplicate_total") == 0);
  CHECK(s.ready(d.route("dead_letter_queue")) == 0);
  check_alive_ready_and_drained(s, d);
}

} // namespace

TEST_CASE("reconfigurations under load: each applied in order, counts exact, ready after the last [ci]") {
  reconfigurations_under_load(ci_sizes.reconfigurations);
}

TEST_CASE("reconfigurations under load: each applied in order, counts exact, ready after the last [full]") {
  reconfigurations_under_load(full_sizes.reconfigurations);
}
