#include "pipeline_helpers.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <functional>
#include <thread>

using namespace amqp_test;

namespace {

constexpr std::size_t reconnect_total = 30000;

// Pauses the processors a fifth of the way through, with a full prefetch window in flight.
std::shared_ptr<counting_handler> pausing_handler() {
  auto handler = std::make_shared<counting_handler>(reconnect_total);
  handler->pause_at = reconnect_total / 5;
  return handler;
}

amqp::queue_source_options consume(const std::string& queue, std::string connection_name,
                               std::string url = broker_url()) {
  amqp::queue_source_options options;
  options.connection = test_connection(std::move(connection_name), std::move(url));
  options.connection.reconnect.max = 2s;
  options.queue = queue;
  options.prefetch_count = 1000;
  return options;
}

// Consumes a preloaded queue with `options` through a pipeline whose processors pause a fifth of
// the way through, with a full prefetch window in flight. There `fault` runs (it resumes the
// processors, handler.paused = false, when it sees fit); then every message must be handled,
// and the pipeline drains. Returns the source, for its stats and its connection's.
std::shared_ptr<amqp::queue_source> drain_through_fault(
  const amqp::queue_source_options& options, const std::shared_ptr<counting_handler>& handler,
  const std::function<void(amqp::connection&)>& fault) {
  auto source = amqp::queue_source::open(options);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  pipeline_env env;
  auto p = start_pipeline(env.system, **source, handler);
  REQUIRE(wait_until([&] { return handler->paused.load(); }, 60s));
  fault(*(*source)->connection());
  REQUIRE(wait_until([&] { return handler->distinct() == reconnect_total; }, 120s));
  p.drain();
  return *source;
}

} // namespace

TEST_CASE("a connection closed by the broker mid-stream is resumed and every message is handled") {
  scoped_queue queue("causeway-close-conn");
  preload(queue.name, reconnect_total);
  auto name = unique_name("causeway-consumer");
  auto handler = pausing_handler();
  auto source = drain_through_fault(consume(queue.name, name), handler, [&](amqp::connection& conn) {
    CHECK(close_connections_named(name) == 1);
    REQUIRE(wait_until([&] { return conn.stats().losses == 1 && conn.stats().is_connected; }, 30s));
    handler->paused = false;
  });
  auto& conn = *source->connection();
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == 0);
  MESSAGE("handled twice after the reconnect: " << duplicates);
  auto counts = wait_for_queue(queue.name, 0, 0);
  CHECK(counts.ready == 0);
  CHECK(counts.unacked == 0);
  CHECK(conn.stats().losses == 1);
  CHECK(conn.stats().connects == 2);
  auto stats = source->stats();
  MESSAGE("redelivered " << stats.redelivered << ", dropped acks " << stats.dropped_acks);
  // The window in flight at the failure: its acks were dropped, never sent on the new
  // channel, and the broker delivered those messages again.
  CHECK(stats.dropped_acks > 0);
  CHECK(stats.redelivered > 0);
  CHECK(stats.redelivered >= duplicates);
}

TEST_CASE("stopping and starting the broker mid-stream is survived and every message is handled") {
  private_broker broker(0);
  scoped_queue queue("causeway-restart", {}, broker.url());
  preload(queue.name, reconnect_total, 0, broker.url());
  auto handler = pausing_handler();
  auto options = consume(queue.name, unique_name("causeway-consumer"), broker.url());
  auto source = drain_through_fault(options, handler, [&](amqp::connection& conn) {
    REQUIRE_MESSAGE(broker.ctl("stop_app") == 0, broker.last_output());
    REQUIRE(wait_until([&] { return conn.stats().losses >= 1; }, 30s));
    handler->paused = false;  // in-flight messages finish while the broker is away
    REQUIRE_MESSAGE(broker.ctl("start_app") == 0, broker.last_output());
  });
  auto& conn = *source->connection();
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == 0);
  MESSAGE("handled twice after the restart: " << duplicates);
  CHECK(conn.stats().losses >= 1);
  CHECK(conn.stats().is_connected);
  auto stats = source->stats();
  MESSAGE("redelivered " << stats.redelivered << ", dropped acks " << stats.dropped_acks);
  CHECK(stats.dropped_acks > 0);
  CHECK(stats.redelivered > 0);
  // The queue through the same (reconnected) admin connection and through rabbitmqctl.
  REQUIRE(wait_until([&] {
    auto s = amqp::inspect_queue(*queue.admin, queue.name);
    return s && s->messages_ready == 0;
  }, 20s));
  std::string listing;
  REQUIRE(wait_until([&] {
    broker.ctl("list_queues --no-table-headers name messages_ready messages_unacknowledged");
    listing = broker.last_output();
    return listing.find(queue.name + "\t0\t0") != std::string::npos;
  }, 20s));
}

TEST_CASE("a broker that stops answering is noticed by missed heartbeats, and every message is handled after it wakes") {
  private_broker broker(2);
  scoped_queue queue("causeway-frozen", {}, broker.url());
  preload(queue.name, reconnect_total, 0, broker.url());
  auto options = consume(queue.name, unique_name("causeway-consumer"), broker.url());
  options.connection.heartbeat = 1s;
  auto handler = pausing_handler();
  auto source = drain_through_fault(options, handler, [&](amqp::connection& conn) {
    const pid_t pid = broker.pid();
    REQUIRE(pid > 0);
    // A frozen broker keeps its sockets open and says nothing: only heartbeats tell.
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    const bool noticed = wait_until([&] { return conn.stats().losses >= 1; }, 15s);
    ::kill(pid, SIGCONT);
    REQUIRE(noticed);
    handler->paused = false;
  });
  auto& conn = *source->connection();
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == 0);
  MESSAGE("handled twice after the freeze: " << duplicates);
  CHECK(conn.stats().is_connected);
  REQUIRE(wait_until([&] {
    auto s = amqp::inspect_queue(*queue.admin, queue.name);
    return s && s->messages_ready == 0;
  }, 30s));
  CHECK(wait_until([&] {
    broker.ctl("list_queues --no-table-headers name messages_ready messages_unacknowledged");
    return broker.last_output().find(queue.name + "\t0\t0") != std::string::npos;
  }, 20s));
}
