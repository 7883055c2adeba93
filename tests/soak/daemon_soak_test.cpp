// Soak (ctest -L slow; not in CI): a long run of everything that could lose or double-count a
// reading at once — sustained load, reconfigurations and broker connection losses.
#include "../e2e/daemon_checks.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace telluride::test;

TEST_CASE("soak: 300,000 readings, 20 reconfigurations and 3 forced connection closes, each reading counted once") {
  daemon_process d{"soak" + std::to_string(::getpid())};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  amqp_session control{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  constexpr std::size_t total = 300'000;
  reading_set set{2000, total, 97, "soak"};
  std::atomic<bool> publishing{true};
  std::thread disturb{[&] {
    for (int i = 0; publishing; ++i) {
      std::this_thread::sleep_for(400ms);
      nlohmann::json change{{"processor_concurrency", 1 + i % 4}, {"sensor_batcher_one_batch_size", 50 + 50 * (i % 5)},
                            {"prefetch_count", i % 2 == 0 ? 500 : 1000}, {"producer_concurrency", 1 + i % 2}};
      if (i < 20)
        control.publish(d.route("exchange"), d.route("control_routing_key"), change.dump(), "soak-" + std::to_string(i));
      if (i % 7 == 3 && i < 22)
        amqp_test::close_connections_named("telluride-consumer");
    }
  }};
  // The last 2,000 readings (one per sensor) go out once the others are counted: with
  // producer_concurrency 2, two readings of one sensor in flight together can reach the daemon
  // in either order (the broker writes each channel's deliveries on its own), and last_reading
  // would depend on the broker.
  constexpr std::size_t before_last = total - 2000;
  for (std::size_t from = 0; from < before_last; from += 5000) {
    publish_readings(s, d, set, from, std::min(from + 5000, before_last));
    std::this_thread::sleep_for(100ms);
  }
  publishing = false;
  disturb.join();
  control.wait_confirms();

  aggregate_view aggregates;
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(set.expected(before_last)); }, 300s));
  publish_readings(s, d, set, before_last, total);
  auto want = set.expected(total);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 300s));
  aggregates.check(want);
  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() >= total; }, 60s));
  std::this_thread::sleep_for(1s);
  totals.update(s, d);
  CHECK(totals.successful() == total);
  CHECK(totals.failed() == 0);
  CHECK(s.ready(d.route("readings_queue")) == 0);
  CHECK(d.stop() == std::optional<int>{0});
}
