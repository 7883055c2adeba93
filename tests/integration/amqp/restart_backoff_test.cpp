#include "pipeline_helpers.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace amqp_test;

namespace {

constexpr std::size_t per_round = 1000;
constexpr int restarts = 3;

} // namespace

TEST_CASE("after each of three broker restarts in a row the reconnect retries start over at the first delay") {
  private_broker broker(11);
  scoped_queue queue("causeway-restarts", {}, broker.url());
  amqp::queue_source_options options;
  options.connection = test_connection(unique_name("causeway-consumer"), broker.url());
  options.connection.reconnect.max = 2s;  // bounds the test's length, not what it checks
  options.queue = queue.name;
  options.prefetch_count = 100;
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  auto& conn = *(*source)->connection();

  const std::size_t total = per_round * (restarts + 1);
  auto handler = std::make_shared<counting_handler>(total);
  pipeline_env env;
  auto p = start_pipeline(env.system, **source, handler);

  std::vector<std::uint32_t> first_retry_attempts;  // per restart: the attempt index after the loss
  std::vector<std::uint32_t> retries_taken;         // per restart: delays taken until reconnected
  for (int round = 0; round <= restarts; ++round) {
    CAPTURE(round);
    const std::size_t handled_by_now = per_round * static_cast<std::size_t>(round + 1);
    preload(queue.name, per_round, per_round * static_cast<std::size_t>(round), broker.url());
    REQUIRE(wait_until([&] { return handler->distinct() == handled_by_now; }, 60s));
    // Every ack reached the broker: nothing is in flight when it stops, so nothing is
    // redelivered and each message is handled exactly once.
    REQUIRE(wait_until([&] {
      broker.ctl("list_queues --no-table-headers name messages_ready messages_unacknowledged");
      return broker.last_output().find(queue.name + "\t0\t0") != std::string::npos;
    }, 20s));
    if (round == restarts)
      break;
    // Open and consuming for longer than healthy_after: the connection has proved healthy.
    std::this_thread::sleep_for(options.connection.healthy_after + 500ms);
    const auto losses = conn.stats().losses;
    REQUIRE_MESSAGE(broker.ctl("stop_app") == 0, broker.last_output());
    REQUIRE(wait_until([&] { return conn.stats().losses == losses + 1; }, 30s));
    REQUIRE_MESSAGE(broker.ctl("start_app") == 0, broker.last_output());
    REQUIRE(wait_until([&] { return conn.stats().is_connected; }, 60s));
    auto stats = conn.stats();
    first_retry_attempts.push_back(stats.first_retry_attempt);
    retries_taken.push_back(stats.retry_attempts);
  }
  p.drain();

  MESSAGE("retry delays taken per restart: " << retries_taken[0] << ", " << retries_taken[1] << ", "
                                             << retries_taken[2]);
  // Each outage took several retries (the broker refused connections while its app started),
  // so the backoff had moved on; the next loss still began at attempt 0.
  for (auto taken : retries_taken)
    CHECK(taken >= 2);
  CHECK(first_retry_attempts == std::vector<std::uint32_t>{0, 0, 0});
  auto stats = conn.stats();
  CHECK(stats.losses == 3);
  CHECK(stats.connects == 4);
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == 0);
  CHECK(duplicates == 0);
  CHECK(handler->handled == total);
  CHECK(handler->failures == 0);
}
