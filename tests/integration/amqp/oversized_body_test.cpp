#include "pipeline_helpers.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace amqp_test;

namespace {

constexpr std::size_t normal = 500;
constexpr std::size_t big_body = 1024 * 1024 + 1;  // one byte over the default max_body_size

// Ready messages and their body bytes in `queue`, from rabbitmqctl; -1 when not listed.
std::pair<long, long> messages_and_bytes(const std::string& queue) {
  std::istringstream lines(ctl("list_queues --no-table-headers name messages message_bytes"));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    long messages = -1, bytes = -1;
    if (std::getline(fields, name, '\t') && name == queue && (fields >> messages >> bytes))
      return {messages, bytes};
  }
  return {-1, -1};
}

void publish_big(const std::string& queue) {
  amqp::publisher_options options;
  options.connection = test_connection(unique_name("causeway-big"));
  auto pub = amqp::publisher::open(options);
  REQUIRE_MESSAGE(pub, (pub ? "" : pub.err().message));
  amqp::message_properties props;
  props.message_id = "big";
  (*pub)->publish("", queue, std::string(big_body, 'x'), std::move(props));
  REQUIRE((*pub)->wait_confirmed(60s));
  REQUIRE((*pub)->stats().confirmed == 1);
}

} // namespace

TEST_CASE("a body over max_body_size between normal messages is dead-lettered once, never requeued, and every normal one is handled") {
  scoped_queue dead("causeway-oversized-dlq");
  scoped_queue queue("causeway-oversized",
                     {{"x-dead-letter-exchange", std::string{}}, {"x-dead-letter-routing-key", dead.name}});
  preload(queue.name, normal / 2);
  publish_big(queue.name);
  preload(queue.name, normal / 2, normal / 2);

  auto options = consumer_options(queue.name, 100);
  // The default policy requeues failures: an oversized delivery must be rejected all the same,
  // or it would come back forever.
  REQUIRE(options.on_failure == amqp::failure_policy::reject_and_requeue);
  REQUIRE(options.max_body_size == 1024 * 1024);
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));

  auto handler = std::make_shared<counting_handler>(normal);
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler);
    REQUIRE(wait_until([&] { return handler->handled >= normal && handler->failures >= 1; }, 60s));
    p.drain();
  }
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == 0);
  CHECK(duplicates == 0);
  CHECK(handler->handled == normal);
  CHECK(handler->failures == 1);
  CHECK(handler->failure_reasons() ==
        std::vector<std::string>{"body of 1048577 bytes exceeds max_body_size 1048576"});
  CHECK(handler->redelivered == 0);

  auto main_counts = wait_for_queue(queue.name, 0, 0);
  CHECK(main_counts.ready == 0);
  CHECK(main_counts.unacked == 0);
  // The broker dead-lettered its own copy: the whole body, once.
  std::pair<long, long> dead_letters;
  CHECK(wait_until([&] { return (dead_letters = messages_and_bytes(dead.name)).first == 1; }, 20s));
  CHECK(dead_letters.first == 1);
  CHECK(dead_letters.second == static_cast<long>(big_body));

  auto stats = (*source)->stats();
  CHECK(stats.delivered == normal + 1);
  CHECK(stats.oversized == 1);
  CHECK(stats.malformed == 0);
  CHECK(stats.acked == normal);
  CHECK(stats.rejected == 1);
  CHECK(stats.requeued == 0);
  CHECK(stats.redelivered == 0);
}
