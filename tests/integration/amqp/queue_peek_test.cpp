// peek_message against the broker: the head message is read and left in its place; an empty
// queue gives nothing; a missing queue is one line naming it.
#include "pipeline_helpers.hpp"

#include <causeway/amqp/queue_peek.hpp>

#include <doctest/doctest.h>

// Its own namespace: the unity build compiles several test files as one.
namespace queue_peek_test {

using namespace amqp_test;

TEST_CASE("peeking at a queue reads its head message and leaves it there") {
  scoped_queue queue("causeway-peek", {{"x-max-length", std::int64_t{1}}});
  auto empty = amqp::peek_message(*queue.admin, queue.name);
  REQUIRE_MESSAGE(empty.has_value(), (empty ? "" : empty.err().message));
  CHECK_FALSE(empty->has_value());

  amqp::publisher_options options;
  options.connection = test_connection(unique_name("causeway-peek-publisher"));
  auto pub = amqp::publisher::open(options);
  REQUIRE(pub);
  for (const char* body : {"first", "second"}) {
    auto done = (*pub)->publish_async({"", queue.name, body, {}});
    REQUIRE(done.wait_for(10s) == std::future_status::ready);
    REQUIRE(done.get() == amqp::publish_outcome::confirmed);
  }
  // x-max-length 1: the second pushed the first out.
  for (int i = 0; i < 3; ++i) {
    auto got = amqp::peek_message(*queue.admin, queue.name);
    REQUIRE(got.has_value());
    CHECK(*got == std::optional<std::string>{"second"});
  }
  // The peeked message is back at the head; the queue's count follows the requeue
  // asynchronously on the broker, so it is read until it shows it (at most 5 s).
  std::uint32_t ready = 0;
  for (auto until = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(20ms)) {
    auto state = amqp::inspect_queue(*queue.admin, queue.name);
    REQUIRE(state);
    if ((ready = state->messages_ready) == 1)
      break;
  }
  CHECK(ready == 1);

  auto missing = amqp::peek_message(*queue.admin, queue.name + "-missing");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.err().message.starts_with("peek at queue \"" + queue.name + "-missing\": NOT_FOUND"));
  // The connection is still usable after a channel-level refusal.
  auto again = amqp::peek_message(*queue.admin, queue.name);
  REQUIRE(again.has_value());
  CHECK(*again == std::optional<std::string>{"second"});
  pub->reset();
}

} // namespace queue_peek_test
