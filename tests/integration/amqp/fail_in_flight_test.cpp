// Messages that were never handled — their stage died, or the drain timed out — go back to the
// queue, whatever on_failure says about messages the handler failed.
#include "broker_helpers.hpp"
#include "pipeline_helpers.hpp"

#include <doctest/doctest.h>

using namespace amqp_test;

TEST_CASE("a drain that times out requeues the unhandled messages even with on_failure ack") {
  constexpr std::size_t total = 5000;
  scoped_queue queue("causeway-fail-in-flight");
  preload(queue.name, total);
  auto options = consumer_options(queue.name, 500);
  options.on_failure = amqp::failure_policy::ack;
  auto source = amqp::queue_source::open(options);
  REQUIRE(source);
  auto handler = std::make_shared<counting_handler>(total);
  {
    // A rate limit far below the prefetch keeps deliveries waiting in the producer stage: the
    // drain cannot finish them within the shutdown timeout, and no thread is blocked.
    pipeline_env env;
    auto shape = pipeline_shape();
    shape.producer.rate_limit = {100, std::chrono::milliseconds(1000)};
    shape.shutdown_timeout = 300ms;
    auto p = start_pipeline(env.system, **source, handler, shape);
    REQUIRE(wait_until([&] { return (*source)->stats().delivered >= 500 && handler->handled >= 100; }, 30s));
    auto report = p.drain();
    CHECK(report.timed_out);
    p.stop();
  }
  CHECK((*source)->connection().use_count() == 1);  // the supervisor let go of its source
  auto stats = (*source)->stats();
  MESSAGE("handled " << handler->handled << "; delivered " << stats.delivered << ", acked " << stats.acked
                      << ", requeued " << stats.requeued);
  CHECK(stats.requeued >= 300);  // at least what the rate limit held back
  CHECK(stats.acked == handler->handled);
  CHECK(stats.acked + stats.requeued + stats.dropped_acks == stats.delivered);
  // Nothing was lost: what was not acknowledged is back in the queue, ready.
  auto counts = wait_for_queue(queue.name, static_cast<long>(total - stats.acked), 0);
  CHECK(counts.ready == static_cast<long>(total - stats.acked));
  CHECK(counts.unacked == 0);
}
