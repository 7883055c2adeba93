// Acknowledgements through an ack_gate (checkpoint-then-ack): the broker sees none of them until
// their round is released, and a source closed while the gate holds them gives every message
// back to the queue.
#include "broker_helpers.hpp"
#include "pipeline_helpers.hpp"

#include <causeway/ack_gate.hpp>

#include <doctest/doctest.h>

using namespace amqp_test;

namespace {

/// A source of `queue` whose messages carry their acknowledgements through `gate`, with room in
/// its prefetch window for every message the tests send (the gate holds them all).
amqp::queue_source_options gated_source(const std::string& queue, const std::shared_ptr<causeway::ack_gate>& gate) {
  auto options = consumer_options(queue, 1000);
  options.acknowledge_through = [gate](std::shared_ptr<causeway::acknowledger> inner) {
    return gate->wrap(std::move(inner));
  };
  return options;
}

} // namespace

TEST_CASE("messages handled behind an ack_gate stay unacknowledged at the broker until their round is released") {
  constexpr std::size_t total = 600;
  scoped_queue queue("causeway-ack-gate");
  preload(queue.name, total);
  auto gate = std::make_shared<causeway::ack_gate>();
  auto options = gated_source(queue.name, gate);
  options.on_failure = amqp::failure_policy::reject;
  auto source = amqp::queue_source::open(options);
  REQUIRE(source);
  auto handler = std::make_shared<counting_handler>(total);
  handler->judge = [](causeway::message& m) { return m.data == "7" ? std::string("seven is refused") : std::string(); };
  pipeline_env env;
  auto p = start_pipeline(env.system, **source, handler, pipeline_shape());
  REQUIRE(wait_until([&] { return gate->held() == total; }, 30s));
  CHECK(handler->handled == total - 1);
  CHECK(handler->failures == 1);
  CHECK((*source)->stats().acked == 0);
  CHECK((*source)->stats().rejected == 0);
  auto held_at_broker = wait_for_queue(queue.name, 0, static_cast<long>(total));
  CHECK(held_at_broker.unacked == static_cast<long>(total));

  const auto round = gate->seal();
  gate->release(round);
  CHECK(wait_until([&] { return (*source)->stats().acked + (*source)->stats().rejected == total; }, 30s));
  CHECK((*source)->stats().acked == total - 1);
  CHECK((*source)->stats().rejected == 1);
  auto counts = wait_for_queue(queue.name, 0, 0);
  CHECK(counts.ready == 0);
  p.drain();
  p.stop();
}

TEST_CASE("closing a source whose acknowledgements the gate still holds returns every message to the queue") {
  constexpr std::size_t total = 300;
  scoped_queue queue("causeway-ack-gate-closed");
  preload(queue.name, total);
  auto gate = std::make_shared<causeway::ack_gate>();
  auto options = gated_source(queue.name, gate);
  auto handler = std::make_shared<counting_handler>(total);
  {
    auto source = amqp::queue_source::open(options);
    REQUIRE(source);
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler, pipeline_shape());
    REQUIRE(wait_until([&] { return gate->held() == total; }, 30s));
    p.drain();
    p.stop();
    CHECK((*source)->stats().acked == 0);
  }
  // The channel closed with nothing acknowledged: all of it is ready again; a release now reaches
  // a channel that is gone and acknowledges nothing.
  gate->release(gate->seal());
  auto counts = wait_for_queue(queue.name, static_cast<long>(total), 0);
  CHECK(counts.ready == static_cast<long>(total));
  CHECK(counts.unacked == 0);
}

TEST_CASE("a full prefetch window calls on_window_full, whose hurry gets the gate's acknowledgements through below any mark") {
  // The checkpointer's mark (1,000) is beyond the window (50): only the window filling up
  // lets anything through, each time the broker stops delivering.
  constexpr std::size_t total = 170;
  scoped_queue queue("causeway-ack-gate-full");
  preload(queue.name, total);
  auto gate = std::make_shared<causeway::ack_gate>();
  auto options = gated_source(queue.name, gate);
  options.prefetch_count = 50;
  options.handoff_interval = std::chrono::milliseconds{1000};  // a full window hands on at once
  std::atomic<int> fills{0};
  options.on_window_full = [gate, &fills] {
    ++fills;
    gate->hurry();
  };
  std::mutex mutex;
  std::condition_variable rung;
  bool is_rung = false;
  gate->wake_at(1000, [&] {
    std::lock_guard lock(mutex);
    is_rung = true;
    rung.notify_all();
  });
  std::atomic<bool> stopping{false};
  std::thread checkpointer([&] {
    while (!stopping) {
      std::unique_lock lock(mutex);
      if (!rung.wait_for(lock, 50ms, [&] { return is_rung; }))
        continue;
      is_rung = false;
      lock.unlock();
      gate->release(gate->seal());
    }
  });
  auto source = amqp::queue_source::open(options);
  REQUIRE(source);
  auto handler = std::make_shared<counting_handler>(total);
  pipeline_env env;
  auto p = start_pipeline(env.system, **source, handler, pipeline_shape());
  // Every window that fills is let through: what stays held at the end is less than a window.
  auto acked = [&] { return (*source)->stats().acked; };
  CHECK(wait_until([&] { return acked() + gate->held() == total && acked() > total - 50; }, 30s));
  CHECK(fills.load() >= 3);
  gate->release(gate->seal());
  CHECK(wait_until([&] { return (*source)->stats().acked == total; }, 30s));
  CHECK(handler->handled == total);
  // The source counts each fill, and the time each full window waited for acknowledgements.
  CHECK((*source)->stats().window_full == static_cast<std::uint64_t>(fills.load()));
  CHECK((*source)->stats().window_full_seconds > 0);
  stopping = true;
  checkpointer.join();
  gate->wake_at(0, nullptr);
  auto counts = wait_for_queue(queue.name, 0, 0);
  CHECK(counts.ready == 0);
  p.drain();
  p.stop();
}
