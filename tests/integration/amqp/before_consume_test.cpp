// queue_source_options::before_consume: a channel consumes only once the hook lets it, and a
// hook taking an exclusive lock queue makes one connection at a time consume a queue.
#include "pipeline_helpers.hpp"

#include <doctest/doctest.h>

using namespace amqp_test;

namespace {

amqp::queue_source_options retrying_source(const std::string& queue, const std::string& connection_name) {
  amqp::queue_source_options options;
  options.connection = test_connection(unique_name(connection_name));
  options.connection.reconnect.initial = 50ms;
  options.connection.reconnect.max = 200ms;
  options.queue = queue;
  options.prefetch_count = 100;
  return options;
}

/// Declares `lock` exclusive on the channel's connection: refused (RESOURCE_LOCKED) while
/// another connection holds it.
std::function<amqp::failure(amqp::channel&)> take_lock(std::string lock, std::atomic<int>& refused) {
  return [lock = std::move(lock), &refused](amqp::channel& ch) {
    auto f = amqp::declare_queue(ch, amqp::queue_spec{lock, false, true, true, {}});
    if (f)
      ++refused;
    return f;
  };
}

} // namespace

TEST_CASE("a channel consumes only once before_consume lets it, and is retried until then") {
  constexpr std::size_t total = 300;
  scoped_queue queue("causeway-before-consume");
  preload(queue.name, total);
  std::atomic<bool> allow{false};
  std::atomic<int> asked{0};
  auto options = retrying_source(queue.name, "causeway-gated");
  options.before_consume = [&](amqp::channel&) {
    ++asked;
    return allow ? amqp::failure{} : amqp::failure{amqp::failure_scope::channel, 0, "not yet"};
  };
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  auto handler = std::make_shared<counting_handler>(total);
  pipeline_env env;
  auto p = start_pipeline(env.system, **source, handler);
  REQUIRE(wait_until([&] { return asked >= 3; }, 10s));
  CHECK(handler->handled == 0);
  auto held = list_queue(queue.name);
  CHECK(held.ready == static_cast<long>(total));
  CHECK(held.unacked == 0);

  allow = true;
  REQUIRE(wait_until([&] { return handler->handled >= total; }, 30s));
  p.drain();
  p.stop();
  check_handled_once_and_queue_empty(*handler, queue.name);
}

TEST_CASE("an exclusive lock queue taken in before_consume: one connection consumes, the other takes over when it "
          "is closed") {
  constexpr std::size_t first = 200;
  constexpr std::size_t second = 300;
  scoped_queue queue("causeway-locked-consume");
  const std::string lock = queue.name + ".lock";
  preload(queue.name, first);
  std::atomic<int> refused_a{0};
  std::atomic<int> refused_b{0};
  auto options_a = retrying_source(queue.name, "causeway-lock-a");
  options_a.before_consume = take_lock(lock, refused_a);
  auto options_b = retrying_source(queue.name, "causeway-lock-b");
  options_b.before_consume = take_lock(lock, refused_b);
  const std::string name_a = options_a.connection.name;

  auto source_a = amqp::queue_source::open(options_a);
  REQUIRE(source_a);
  auto handler_a = std::make_shared<counting_handler>(first + second);
  pipeline_env env_a;
  auto a = start_pipeline(env_a.system, **source_a, handler_a);
  REQUIRE(wait_until([&] { return handler_a->handled >= first; }, 30s));

  auto source_b = amqp::queue_source::open(options_b);
  REQUIRE(source_b);
  auto handler_b = std::make_shared<counting_handler>(first + second + 100);
  pipeline_env env_b;
  auto b = start_pipeline(env_b.system, **source_b, handler_b);
  REQUIRE(wait_until([&] { return refused_b >= 2; }, 10s));
  preload(queue.name, second, first);
  REQUIRE(wait_until([&] { return handler_a->handled >= first + second; }, 30s));
  CHECK(handler_b->handled == 0);  // the lock kept b from consuming

  // a's connection closed by the broker: its lock goes with it, and b takes the queue.
  a.drain();
  a.stop();
  preload(queue.name, 100, first + second);  // a's pipeline stopped, but its connection holds the lock
  CHECK(list_queue(queue.name).ready == 100);
  REQUIRE(close_connections_named(name_a) == 1);
  REQUIRE(wait_until([&] { return handler_b->handled >= 100; }, 30s));
  CHECK(handler_b->handled == 100);
  CHECK(handler_b->missing_and_duplicates().first == first + second);  // exactly ids 500..599
  CHECK(handler_a->handled == first + second);
  b.drain();
  b.stop();
  auto counts = wait_for_queue(queue.name, 0, 0);
  CHECK(counts.ready == 0);
  CHECK(counts.unacked == 0);
}
