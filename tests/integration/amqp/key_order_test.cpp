// Per-key order across several channels of one source. The broker hands consecutive messages
// to whichever channel has room and writes each channel's deliveries on its own, so one key's
// messages arrive on every channel, and not always in queue order. What the framework keeps is
// the order they were read: each key's messages reach their processor in exactly that order.
#include "pipeline_helpers.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <any>
#include <stdexcept>

using namespace amqp_test;

namespace {

constexpr std::size_t keys = 3;  // consecutive messages of a key are 3 apart: on different channels

std::size_t key_of(const causeway::message& msg) { return std::stoull(msg.data) % keys; }

/// Each key's message numbers in one order, from any thread.
class key_sequences {
public:
  void add(const causeway::message& msg) {
    std::lock_guard lock(mutex_);
    seen_[key_of(msg)].push_back(std::stoull(msg.data));
  }
  std::vector<std::uint64_t> of(std::size_t key) const {
    std::lock_guard lock(mutex_);
    return seen_[key];
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::vector<std::uint64_t>> seen_{keys};
};

/// Of `total` messages numbered from 0, those numbered 1000k + 7 failed with `why` and their
/// number, and were rejected; the others were handled and acked; the queue is empty.
void check_sevens_rejected(const counting_handler& handler, amqp::queue_source& source, const std::string& queue,
                           std::size_t total, const std::string& why) {
  std::vector<std::string> expected;
  for (std::size_t n = 7; n < total; n += 1000)
    expected.push_back(why + std::to_string(n));
  std::sort(expected.begin(), expected.end());
  CHECK(handler.handled == total - expected.size());
  CHECK(handler.failures == expected.size());
  auto reasons = handler.failure_reasons();
  std::sort(reasons.begin(), reasons.end());
  CHECK(reasons == expected);
  auto counts = wait_for_queue(queue, 0, 0);
  CHECK(counts.ready == 0);
  CHECK(counts.unacked == 0);
  auto stats = source.stats();
  CHECK(stats.acked == total - expected.size());
  CHECK(stats.rejected == expected.size());
}

/// Records the order in which each key's messages reached handle_message.
class order_handler : public counting_handler {
public:
  using counting_handler::counting_handler;

  void handle_message(causeway::message& msg, const causeway::context& ctx) override {
    handled_order.add(msg);
    counting_handler::handle_message(msg, ctx);
  }

  key_sequences handled_order;
};

} // namespace

TEST_CASE("with several channels, each key's messages reach their processor in the order they were read") {
  constexpr std::size_t total = 30000;
  std::size_t channels = 2;
  SUBCASE("2 channels") {}
  SUBCASE("3 channels") { channels = 3; }
  CAPTURE(channels);
  scoped_queue queue("causeway-key-order");
  preload(queue.name, total);

  auto read_order = std::make_shared<key_sequences>();
  auto options = consumer_options(queue.name, 300);
  // Called on the connection thread as each delivery is read: it sees the read order.
  options.route_by = [read_order](causeway::message& msg) -> std::uint64_t {
    read_order->add(msg);
    return key_of(msg);
  };
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));

  auto handler = std::make_shared<order_handler>(total);
  {
    pipeline_env env;
    auto shape = pipeline_shape(50);
    shape.producer.concurrency = channels;
    shape.processors.concurrency = 2;
    // Small asks: without one route per key the stages would race each other for them.
    shape.processors.max_demand = 20;
    shape.processors.min_demand = 10;
    shape.processors.partition_by = [](causeway::message& msg) -> std::uint64_t { return key_of(msg); };
    auto p = start_pipeline(env.system, **source, handler, shape);
    REQUIRE(wait_until([&] { return handler->handled >= total; }, 120s));
    p.drain();
    p.stop();
  }
  for (std::size_t key = 0; key < keys; ++key) {
    CAPTURE(key);
    auto read = read_order->of(key);
    CHECK(read.size() == total / keys);
    CHECK(handler->handled_order.of(key) == read);
  }
  check_handled_once_and_queue_empty(*handler, queue.name);
  auto stats = (*source)->stats();
  CHECK(stats.delivered == total);
  CHECK(stats.acked == total);
}

TEST_CASE("a message route_by throws for fails with the reason, and the others are handled once") {
  constexpr std::size_t total = 3000;
  scoped_queue queue("causeway-route-throws");
  preload(queue.name, total);
  auto options = consumer_options(queue.name, 300);
  options.on_failure = amqp::failure_policy::reject;
  options.route_by = [](causeway::message& msg) -> std::uint64_t {
    auto n = std::stoull(msg.data);
    if (n % 1000 == 7)
      throw std::runtime_error("no key in message " + msg.data);
    return n % keys;
  };
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  auto handler = std::make_shared<counting_handler>(total);
  {
    pipeline_env env;
    auto shape = pipeline_shape(50);
    shape.producer.concurrency = 2;
    auto p = start_pipeline(env.system, **source, handler, shape);
    REQUIRE(wait_until([&] { return handler->handled + handler->failures >= total; }, 60s));
    p.drain();
    p.stop();
  }
  check_sevens_rejected(*handler, **source, queue.name, total, "route_by threw: no key in message ");
}

TEST_CASE("on_read sees every delivery on the connection thread, with one stage too, before route_by, and what it throws fails the message") {
  constexpr std::size_t total = 3000;
  std::size_t channels = 1;
  SUBCASE("1 channel") {}
  SUBCASE("2 channels") { channels = 2; }
  CAPTURE(channels);
  scoped_queue queue("causeway-on-read");
  preload(queue.name, total);
  auto options = consumer_options(queue.name, 300);
  options.on_failure = amqp::failure_policy::reject;
  // Filled in once the source exists: on_read checks that it runs on its connection's thread.
  auto conn = std::make_shared<std::shared_ptr<amqp::connection>>();
  auto off_thread = std::make_shared<std::atomic<std::size_t>>(0);
  auto read = std::make_shared<std::atomic<std::size_t>>(0);
  options.on_read = [conn, off_thread, read](causeway::message& msg) {
    if (!*conn || !(*conn)->in_connection_thread())
      ++*off_thread;
    ++*read;
    auto n = std::stoull(msg.data);
    if (n % 1000 == 7)
      throw std::runtime_error("unreadable message " + msg.data);
    msg.decoded = static_cast<std::uint64_t>(2 * n);
  };
  // route_by sees what on_read decoded (and never a message it failed).
  auto undecoded = std::make_shared<std::atomic<std::size_t>>(0);
  options.route_by = [undecoded](causeway::message& msg) -> std::uint64_t {
    const auto* twice = std::any_cast<std::uint64_t>(&msg.decoded);
    if (twice == nullptr || *twice != 2 * std::stoull(msg.data))
      ++*undecoded;
    return key_of(msg);
  };
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  *conn = (*source)->connection();
  auto handler = std::make_shared<counting_handler>(total);
  // The stages see it too.
  handler->judge = [](causeway::message& msg) -> std::string {
    const auto* twice = std::any_cast<std::uint64_t>(&msg.decoded);
    return twice != nullptr && *twice == 2 * std::stoull(msg.data) ? "" : "not decoded: " + msg.data;
  };
  {
    pipeline_env env;
    auto shape = pipeline_shape(50);
    shape.producer.concurrency = channels;
    auto p = start_pipeline(env.system, **source, handler, shape);
    REQUIRE(wait_until([&] { return handler->handled + handler->failures >= total; }, 60s));
    p.drain();
    p.stop();
  }
  CHECK(*read == total);
  CHECK(*off_thread == 0);
  CHECK(*undecoded == 0);
  check_sevens_rejected(*handler, **source, queue.name, total, "on_read threw: unreadable message ");
}
