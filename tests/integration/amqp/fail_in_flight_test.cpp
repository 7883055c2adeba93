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
  amqp::producer_options options;
  options.connection = test_connection(unique_name("causeway-consumer"));
  options.queue = queue.name;
  options.prefetch_count = 500;
  options.on_failure = amqp::failure_policy::ack;
  auto source = amqp::rabbitmq_source::open(options);
  REQUIRE(source);
  auto handler = std::make_shared<counting_handler>(total);
  handler->pause_at = 1000;
  std::uint64_t handled_before_drain = 0;
  {
    pipeline_env env;
    auto shape = pipeline_shape();
    shape.shutdown_timeout = 300ms;
    auto p = start_pipeline(env.system, **source, handler, shape);
    REQUIRE(wait_until([&] { return handler->paused.load(); }, 60s));
    handled_before_drain = handler->handled.load();
    std::thread release([&] {
      std::this_thread::sleep_for(1s);  // past the shutdown timeout
      handler->paused = false;
    });
    auto report = p.drain();
    release.join();
    CHECK(report.timed_out);
    p.stop();
  }
  CHECK((*source)->connection().use_count() == 1);  // the supervisor let go of its source
  auto stats = (*source)->stats();
  MESSAGE("handled " << handled_before_drain << " before the drain; delivered " << stats.delivered
                     << ", acked " << stats.acked << ", requeued " << stats.requeued);
  CHECK(stats.requeued > 0);
  CHECK(stats.acked + stats.requeued + stats.dropped_acks == stats.delivered);
  // Nothing was lost: what was not acknowledged is back in the queue, ready.
  auto counts = wait_for_queue(queue.name, static_cast<long>(total - stats.acked), 0);
  CHECK(counts.ready == static_cast<long>(total - stats.acked));
  CHECK(counts.unacked == 0);
}
