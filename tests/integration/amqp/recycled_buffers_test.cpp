// A consumer fills deliveries into the buffers of messages already acknowledged (or held by an
// ack_gate): bodies and metadata arrive exactly as published, with nothing of the message that
// had the buffer before, and all but a window's worth of deliveries allocate nothing.
#include "pipeline_helpers.hpp"

#include <causeway/ack_gate.hpp>

#include <doctest/doctest.h>

using namespace amqp_test;

namespace {

// Message i: "i:" then filler up to a length that varies from 16 to 3,000 bytes, so a buffer
// that comes back often held a longer body than the one filled into it; every 500th is 5,000
// bytes, past what the buffers keep (recycled_buffers::default_max_capacity).
std::string body_of(std::size_t i) {
  const std::size_t size = i % 500 == 250 ? 5000 : 16 + (i * 37) % 2985;
  std::string body = std::to_string(i) + ":";
  body.resize(std::max(size, body.size()), static_cast<char>('a' + i % 26));
  return body;
}

bool is_refused(std::size_t i) { return i % 1000 == 7; }
bool is_large(std::size_t i) { return i % 500 == 250; }

void publish_bodies(const std::string& queue, std::size_t total) {
  auto pub = open_test_publisher("causeway-recycled");
  for (std::size_t i = 0; i < total; ++i) {
    amqp::message_properties props;
    props.message_id = "m-" + std::to_string(i);
    if (i % 2 == 0)  // metadata of two shapes: one more entry every other message
      props.correlation_id = "c-" + std::to_string(i);
    pub->publish("", queue, body_of(i), std::move(props));
  }
  REQUIRE(pub->wait_confirmed(120s));
}

} // namespace

TEST_CASE("deliveries are filled into the buffers of settled ones, each body and metadata exactly as published") {
  constexpr std::size_t total = 4000;
  constexpr std::uint16_t prefetch = 200;
  scoped_queue queue("causeway-recycled");
  publish_bodies(queue.name, total);

  auto options = consumer_options(queue.name, prefetch);
  options.on_failure = amqp::failure_policy::reject;
  std::shared_ptr<causeway::ack_gate> gate;
  SUBCASE("acknowledged directly") {}
  SUBCASE("behind an ack_gate, whose rounds release them later") {
    gate = std::make_shared<causeway::ack_gate>();
    options.acknowledge_through = [gate](std::shared_ptr<causeway::acknowledger> inner) {
      return gate->wrap(std::move(inner));
    };
  }
  CAPTURE(gate != nullptr);
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));

  auto handler = std::make_shared<counting_handler>(total);
  auto wrong = std::make_shared<std::atomic<std::size_t>>(0);
  handler->judge = [wrong, queue = queue.name](causeway::message& msg) -> std::string {
    const auto i = std::stoul(msg.data);
    const bool with_correlation = i % 2 == 0;
    const auto& md = msg.metadata;
    if (msg.data != body_of(i) || md.get("message_id") != "m-" + std::to_string(i) ||
        md.get("correlation_id") != (with_correlation ? "c-" + std::to_string(i) : "") ||
        md.contains("correlation_id") != with_correlation || md.get("routing_key") != queue ||
        md.get("redelivered") != "false")
      ++*wrong;
    return is_refused(i) ? "refused " + std::to_string(i) : "";
  };
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler, pipeline_shape(50));
    auto settled = [&] { return handler->handled + handler->failures >= total; };
    // Behind the gate, a round every 20 ms (the daemon checkpoints every 100 ms).
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!wait_until(settled, 20ms) && std::chrono::steady_clock::now() < deadline)
      if (gate)
        gate->release(gate->seal());
    REQUIRE(settled());
    if (gate)
      gate->release(gate->seal());
    p.drain();
    p.stop();
  }
  CHECK(*wrong == 0);
  std::size_t refused = 0;
  std::size_t large = 0;
  for (std::size_t i = 0; i < total; ++i) {
    refused += is_refused(i) ? 1 : 0;
    large += is_large(i) ? 1 : 0;
  }
  auto stats = (*source)->stats();
  CHECK(stats.delivered == total);
  CHECK(wait_until([&] { return (*source)->stats().acked == total - refused; }, 30s));
  CHECK((*source)->stats().rejected == refused);
  // No more buffers are ever out than deliveries unacknowledged (at most the window), and new
  // ones are allocated only when none came back: a window's worth, plus one for each message
  // whose buffers were not kept (failed, or its body past the kept capacity).
  CHECK(stats.recycled >= total - prefetch - refused - large);
  CHECK(handler->failures == refused);
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == refused);  // the refused ones never reach a batch
  CHECK(duplicates == 0);
  CHECK(handler->distinct() == total - refused);
  auto counts = wait_for_queue(queue.name, 0, 0);
  CHECK(counts.ready == 0);
  CHECK(counts.unacked == 0);
}
