#include "pipeline_helpers.hpp"

#include <doctest/doctest.h>

using namespace amqp_test;

namespace {

/// Each of `total` messages was delivered in `handoffs` hand-offs in all, handled once and
/// acknowledged.
void check_handed_on(const amqp::queue_source& source, const counting_handler& handler, std::size_t total,
                     std::uint64_t handoffs) {
  auto stats = source.stats();
  CHECK(stats.delivered == total);
  CHECK(stats.handoffs == handoffs);
  CHECK(stats.acked == total);
  auto [missing, duplicates] = handler.missing_and_duplicates();
  CHECK(missing == 0);
  CHECK(duplicates == 0);
}

/// A consumer of `queue` that gathers deliveries: a hand-off size of 250 (prefetch 1000) and
/// a 1 s handoff_interval, its longest.
amqp::queue_source_options gathering_options(const std::string& queue) {
  auto options = consumer_options(queue, 1000);
  options.handoff_interval = 1000ms;
  return options;
}

/// Publishes "0" to `queue` while its consumer polls (nothing read yet, so it is read as it
/// arrives) and waits until it is handled. Returns the hand-offs deferred by then: none, or on a
/// loaded host one, when it came while the consumer was still starting and a pass that does not
/// pace read it.
std::uint64_t hand_on_first(amqp::publisher& pub, const std::string& queue, const counting_handler& handler,
                            const amqp::queue_source& source) {
  pub.publish("", queue, "0", amqp::message_properties{});
  REQUIRE(pub.wait_confirmed(30s));
  REQUIRE(wait_until([&] { return handler.handled >= 1; }, 30s));
  const std::uint64_t deferred = source.stats().deferred_handoffs;
  CHECK(deferred <= 1);
  return deferred;
}

} // namespace

TEST_CASE("draining 100,000 messages handles each exactly once and leaves the queue empty") {
  // The default paces reads (1 ms); 0 reads on every readable event; a long interval lets
  // the whole prefetch window pile up between reads.
  std::size_t total = 100000;
  std::chrono::milliseconds read_interval{1};
  SUBCASE("read_interval 1 ms (default)") {}
  SUBCASE("read_interval 0: a read per readable event") {
    total = 20000;
    read_interval = std::chrono::milliseconds{0};
  }
  SUBCASE("read_interval 25 ms") {
    total = 20000;
    read_interval = std::chrono::milliseconds{25};
  }
  std::chrono::milliseconds longest_read_interval{0};
  SUBCASE("read_interval 1 ms, stretching to 8 ms while reads bring few frames") {
    total = 20000;
    longest_read_interval = std::chrono::milliseconds{8};
  }
  CAPTURE(read_interval.count());
  CAPTURE(longest_read_interval.count());
  scoped_queue queue("causeway-drain");
  preload(queue.name, total);
  CHECK(list_queue(queue.name).ready == static_cast<long>(total));

  amqp::queue_source_options options;
  options.connection = test_connection(unique_name("causeway-consumer"));
  options.connection.read_interval = read_interval;
  options.connection.longest_read_interval = longest_read_interval;
  options.queue = queue.name;
  options.prefetch_count = 1000;
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));

  auto handler = std::make_shared<counting_handler>(total);
  auto started = std::chrono::steady_clock::now();
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler);
    REQUIRE(wait_until([&] { return handler->handled >= total; }, 120s));
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    MESSAGE("drained " << total << " messages in " << seconds << " s");
    p.drain();
    p.stop();
  }
  // Once the pipeline and its actor system are gone, nothing else should hold the connection
  // (the supervisor releases its pipeline_spec when it ends).
  CHECK((*source)->connection().use_count() == 1);
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == 0);
  CHECK(duplicates == 0);
  CHECK(handler->handled == total);
  auto counts = wait_for_queue(queue.name, 0, 0);
  CHECK(counts.ready == 0);
  CHECK(counts.unacked == 0);
  auto stats = (*source)->stats();
  CHECK(stats.delivered == total);
  CHECK(stats.acked == total);
  CHECK(stats.dropped_acks == 0);
  MESSAGE("ack frames: " << stats.ack_frames);
  CHECK(stats.ack_frames * 10 < total);  // coalesced: far fewer acks than messages
}

TEST_CASE("draining mid-stream cancels the consumer, finishes and acks what was taken, leaves the rest") {
  constexpr std::size_t total = 20000;
  scoped_queue queue("causeway-drain-mid");
  preload(queue.name, total);
  auto options = consumer_options(queue.name, 500);
  auto source = amqp::queue_source::open(options);
  REQUIRE(source);
  auto handler = std::make_shared<counting_handler>(total);
  handler->pause_at = 3000;
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler);
    REQUIRE(wait_until([&] { return handler->paused.load(); }, 60s));
    std::thread release([&] {
      std::this_thread::sleep_for(300ms);
      handler->paused = false;
    });
    auto report = p.drain();
    release.join();
    CHECK_FALSE(report.timed_out);
    p.stop();
  }
  auto stats = (*source)->stats();
  auto handled = handler->handled.load();
  MESSAGE("handled " << handled << " of " << total << " before the drain completed");
  CHECK(handled >= 3000);
  CHECK(handled < total);
  CHECK(stats.delivered == handled);  // everything taken was handled...
  CHECK(stats.acked == handled);      // ...and acknowledged
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(duplicates == 0);
  CHECK(missing == total - handled);
  auto counts = wait_for_queue(queue.name, static_cast<long>(total - handled), 0);
  CHECK(counts.ready == static_cast<long>(total - handled));
  CHECK(counts.unacked == 0);
  CHECK(amqp::connection::unclean_loop_closes() == 0);
}

TEST_CASE("deliveries that arrive within handoff_interval reach the producer stage in one hand-off") {
  // Five messages published 20 ms apart on one connection, a hand-off size of 250 (prefetch
  // 1000) and a 1 s interval: the consumer gathers all five and hands them on once, a second
  // after the first arrived.
  constexpr std::size_t total = 5;
  scoped_queue queue("causeway-handoff");
  auto options = gathering_options(queue.name);
  options.connection.longest_read_interval = 8ms;
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  auto handler = std::make_shared<counting_handler>(total);
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler);
    auto pub = open_test_publisher("causeway-handoff-publisher");
    for (std::size_t i = 0; i < total; ++i) {
      pub->publish("", queue.name, std::to_string(i), amqp::message_properties{});
      std::this_thread::sleep_for(20ms);
    }
    REQUIRE(pub->wait_confirmed(30s));
    REQUIRE(wait_until([&] { return handler->handled >= total; }, 30s));
    p.drain();
    p.stop();
  }
  check_handed_on(**source, *handler, total, 1);
  CHECK((*source)->stats().deferred_handoffs == 1);  // it waited to gather them
}

TEST_CASE("a paced read hands its deliveries on at once when its next read comes no sooner than they are due") {
  // Reads paced at 1 s and a 1 s handoff_interval (its longest): waiting for the hand-off's
  // time would gather nothing (the next read comes only then) and cost a wake-up of its own,
  // so the read that brought a message hands it on in the same turn (no hand-off deferred).
  // Before, it waited the full interval.
  scoped_queue queue("causeway-handoff-paced");
  auto options = gathering_options(queue.name);
  options.connection.read_interval = 1000ms;
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  constexpr std::size_t total = 3;
  auto handler = std::make_shared<counting_handler>(total);
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler);
    auto pub = open_test_publisher("causeway-handoff-publisher");
    const std::uint64_t first_deferred = hand_on_first(*pub, queue.name, *handler, **source);
    // Two more while reads are paced: the next paced read brings both, and hands them on.
    pub->publish("", queue.name, "1", amqp::message_properties{});
    pub->publish("", queue.name, "2", amqp::message_properties{});
    REQUIRE(pub->wait_confirmed(30s));
    REQUIRE(wait_until([&] { return handler->handled >= total; }, 30s));
    CHECK((*source)->stats().deferred_handoffs == first_deferred);  // the paced read's: at once
    p.drain();
    p.stop();
  }
  check_handed_on(**source, *handler, total, 2);
}

TEST_CASE("the catch-up read of a late wake-up paces the reads after it, and hands on what it brought at once") {
  // Reads paced at 2 s, a 1 s handoff_interval. A wake-up of the connection more than a
  // second after its last read reads first (connection_io.cpp, on_wake). That read brings the
  // message that waited in the socket for the paced read; it restarts the read timer like any
  // read, so the next read comes 2 s later, after the message is due, and the message is handed
  // on in the same turn. Before, the read was unpaced: the old timer, due in under a second,
  // came before the message was, so the hand-off waited for its flush (a deferred hand-off).
  scoped_queue queue("causeway-handoff-catch-up");
  auto options = gathering_options(queue.name);
  options.connection.read_interval = 2000ms;
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  constexpr std::size_t total = 2;
  auto handler = std::make_shared<counting_handler>(total);
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler);
    auto pub = open_test_publisher("causeway-catch-up-publisher");
    // Read as it arrives; the next read is paced 2 s later.
    const std::uint64_t first_deferred = hand_on_first(*pub, queue.name, *handler, **source);
    const auto read_first = std::chrono::steady_clock::now();
    // Waits in the socket for the paced read...
    pub->publish("", queue.name, "1", amqp::message_properties{});
    REQUIRE(pub->wait_confirmed(30s));
    // ...until a wake-up more than a second after the last read reads it first.
    std::this_thread::sleep_until(read_first + 1200ms);
    REQUIRE((*source)->connection()->post([] {}));
    REQUIRE(wait_until([&] { return handler->handled >= total; }, 30s));
    CHECK((*source)->stats().deferred_handoffs == first_deferred);
    p.drain();
    p.stop();
  }
  check_handed_on(**source, *handler, total, 2);
}

TEST_CASE("a drain hands on what the consumer was still gathering, as one counted hand-off") {
  // A 1 s handoff_interval (its longest) and a hand-off size of 250: three messages wait in
  // the consumer, the drain that starts at once hands them on, they are handled and
  // acknowledged, and that hand-off counts (deferred: it waited to gather). Should the
  // interval end first on a slow host, its own hand-off counts the same.
  constexpr std::size_t total = 3;
  scoped_queue queue("causeway-handoff-drain");
  auto source = amqp::queue_source::open(gathering_options(queue.name));
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  auto handler = std::make_shared<counting_handler>(total);
  bool was_gathering = false;
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler);
    auto pub = open_test_publisher("causeway-handoff-publisher");
    for (std::size_t i = 0; i < total; ++i)
      pub->publish("", queue.name, std::to_string(i), amqp::message_properties{});
    REQUIRE(pub->wait_confirmed(30s));
    REQUIRE(wait_until([&] { return (*source)->stats().delivered == total; }, 30s));
    was_gathering = (*source)->stats().handoffs == 0;
    p.drain();
    CHECK(handler->handled == total);
    p.stop();
  }
  MESSAGE("the drain found the deliveries still gathered: " << was_gathering);
  check_handed_on(**source, *handler, total, 1);
  CHECK((*source)->stats().deferred_handoffs == 1);
}

TEST_CASE("a full prefetch window cuts the open batches: a window smaller than a batch never waits for batch_timeout") {
  // A window of 10, batches of 100 that would wait 10 minutes: each time the window fills, the
  // consumer stalls its producer stage and the batcher cuts what it holds once both processors
  // passed the stall on, so the drain goes on window after window. Only the last messages, once
  // the queue cannot fill the window any more, wait in an open batch (for the timeout, or here
  // the drain: trigger flush).
  constexpr std::size_t total = 95;
  constexpr std::size_t window = 10;
  scoped_queue queue("causeway-window-stall");
  preload(queue.name, total);
  auto source = amqp::queue_source::open(consumer_options(queue.name, window));
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  auto handler = std::make_shared<counting_handler>(total);
  auto shape = pipeline_shape();
  shape.batchers.front().batch_timeout = 600s;
  pipeline_env env;
  auto p = start_pipeline(env.system, **source, handler, shape);
  REQUIRE(wait_until([&] { return (*source)->stats().delivered == total; }, 60s));
  REQUIRE(wait_until([&] { return (*source)->stats().acked > total - window; }, 60s));
  const auto acked = (*source)->stats().acked;  // handled before acknowledged: cut >= acked
  std::size_t cut = 0;
  for (const auto& b : handler->batches()) {
    CHECK(b.trigger == causeway::batch_trigger::stalled);
    CHECK(b.size <= window);
    cut += b.size;
  }
  CHECK(cut >= acked);
  p.drain();
  p.stop();
  CHECK((*source)->stats().acked == total);
  const auto batches = handler->batches();
  std::size_t flushed = 0;
  for (const auto& b : batches)
    flushed += b.trigger == causeway::batch_trigger::flush ? b.size : 0;
  CHECK(flushed == total - cut);
  check_handled_once_and_queue_empty(*handler, queue.name);
}
