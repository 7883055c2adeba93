#include "pipeline_helpers.hpp"

#include <doctest/doctest.h>

using namespace amqp_test;

namespace {

constexpr std::size_t total = 500;

// A main queue dead-lettering into `dead` through the default exchange.
amqp::arguments dead_letter_to(const std::string& dead) {
  return {{"x-dead-letter-exchange", std::string{}}, {"x-dead-letter-routing-key", dead}};
}

amqp::queue_source_options consume(const std::string& queue, amqp::failure_policy policy) {
  auto options = consumer_options(queue, 100);
  options.on_failure = policy;
  return options;
}

bool is_odd(const causeway::message& m) { return std::stoul(m.data) % 2 == 1; }

} // namespace

TEST_CASE("on_failure reject dead-letters failed messages through the queue's DLX arguments") {
  scoped_queue dead("causeway-dlq");
  scoped_queue queue("causeway-reject", dead_letter_to(dead.name));
  preload(queue.name, total);
  auto source = amqp::queue_source::open(consume(queue.name, amqp::failure_policy::reject));
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));

  pipeline_env env;
  auto handler = std::make_shared<counting_handler>(total);
  handler->judge = [](causeway::message& m) { return is_odd(m) ? std::string("odd") : std::string(); };
  {
    auto p = start_pipeline(env.system, **source, handler);
    REQUIRE(wait_until([&] { return handler->handled + handler->failures >= total; }, 60s));
    p.drain();
  }
  CHECK(handler->handled == total / 2);
  CHECK(handler->failures == total / 2);
  CHECK(handler->redelivered == 0);
  auto main_counts = wait_for_queue(queue.name, 0, 0);
  CHECK(main_counts.ready == 0);
  CHECK(main_counts.unacked == 0);
  auto dead_counts = wait_for_queue(dead.name, static_cast<long>(total / 2), 0);
  CHECK(dead_counts.ready == static_cast<long>(total / 2));
  auto stats = (*source)->stats();
  CHECK(stats.rejected == total / 2);
  CHECK(stats.acked == total / 2);
  CHECK(stats.requeued == 0);

  SUBCASE("dead-lettered messages carry x-death in their headers metadata") {
    amqp::queue_source_options dlq = consume(dead.name, amqp::failure_policy::reject);
    auto dead_source = amqp::queue_source::open(dlq);
    REQUIRE(dead_source);
    auto dead_handler = std::make_shared<counting_handler>(total);
    std::mutex mutex;
    std::string headers, message_id;
    dead_handler->judge = [&](causeway::message& m) {
      std::lock_guard lock(mutex);
      headers = std::string(m.metadata.get("headers"));
      message_id = std::string(m.metadata.get("message_id"));
      return std::string();
    };
    auto p = start_pipeline(env.system, **dead_source, dead_handler);
    REQUIRE(wait_until([&] { return dead_handler->handled >= total / 2; }, 60s));
    p.drain();
    CHECK(dead_handler->distinct() == total / 2);
    std::lock_guard lock(mutex);
    CHECK(headers.find("\"x-death\":[{") != std::string::npos);
    CHECK(headers.find("\"reason\":\"rejected\"") != std::string::npos);
    CHECK_FALSE(message_id.empty());
  }
}

TEST_CASE("on_failure reject_and_requeue delivers a failed message again, flagged redelivered") {
  scoped_queue queue("causeway-requeue");
  preload(queue.name, total);
  auto source = amqp::queue_source::open(consume(queue.name, amqp::failure_policy::reject_and_requeue));
  REQUIRE(source);
  pipeline_env env;
  auto handler = std::make_shared<counting_handler>(total);
  // Fails each message on its first delivery only.
  handler->judge = [](causeway::message& m) {
    return m.metadata.get("redelivered") == "false" ? std::string("first try") : std::string();
  };
  {
    auto p = start_pipeline(env.system, **source, handler);
    REQUIRE(wait_until([&] { return handler->handled >= total; }, 60s));
    p.drain();
  }
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == 0);
  CHECK(duplicates == 0);
  CHECK(handler->failures == total);
  CHECK(handler->redelivered == total);
  auto counts = wait_for_queue(queue.name, 0, 0);
  CHECK(counts.ready == 0);
  CHECK(counts.unacked == 0);
  auto stats = (*source)->stats();
  CHECK(stats.requeued == total);
  CHECK(stats.redelivered == total);
  CHECK(stats.acked == total);
}

TEST_CASE("on_failure reject_and_requeue_once requeues a failed message once, then dead-letters it") {
  scoped_queue dead("causeway-dlq");
  scoped_queue queue("causeway-requeue-once", dead_letter_to(dead.name));
  preload(queue.name, total);
  auto source =
    amqp::queue_source::open(consume(queue.name, amqp::failure_policy::reject_and_requeue_once));
  REQUIRE(source);
  pipeline_env env;
  auto handler = std::make_shared<counting_handler>(total);
  handler->judge = [](causeway::message&) { return std::string("always fails"); };
  {
    auto p = start_pipeline(env.system, **source, handler);
    REQUIRE(wait_until([&] { return handler->failures >= 2 * total; }, 60s));
    p.drain();
  }
  CHECK(handler->handled == 0);
  CHECK(handler->failures == 2 * total);
  CHECK(handler->redelivered == total);
  CHECK(wait_for_queue(queue.name, 0, 0).ready == 0);
  CHECK(wait_for_queue(dead.name, static_cast<long>(total), 0).ready == static_cast<long>(total));
  auto stats = (*source)->stats();
  CHECK(stats.requeued == total);
  CHECK(stats.rejected == total);
}
