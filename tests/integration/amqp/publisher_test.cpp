#include "pipeline_helpers.hpp"

#include "amqp_session.hpp"

#include <doctest/doctest.h>

using namespace amqp_test;

TEST_CASE("50,000 publishes are all confirmed and land in the queue") {
  scoped_queue queue("causeway-publish");
  amqp::publisher_options options;
  options.connection = test_connection(unique_name("causeway-publisher"));
  auto pub = amqp::publisher::open(options);
  REQUIRE_MESSAGE(pub, (pub ? "" : pub.err().message));
  constexpr std::size_t total = 50000;
  std::atomic<std::size_t> confirmed{0}, other{0};
  for (std::size_t i = 0; i < total; ++i)
    (*pub)->publish("", queue.name, std::string(100, 'x'), {},
                    [&](amqp::publish_outcome o) {
                      (o == amqp::publish_outcome::confirmed ? confirmed : other)++;
                    });
  REQUIRE((*pub)->wait_confirmed(120s));
  CHECK(confirmed == total);
  CHECK(other == 0);
  auto stats = (*pub)->stats();
  CHECK(stats.confirmed == total);
  CHECK(stats.outstanding == 0);
  CHECK(stats.republished == 0);
  auto state = amqp::inspect_queue(*queue.admin, queue.name);
  REQUIRE(state);
  CHECK(state->messages_ready == total);
  pub->reset();
  CHECK(amqp::connection::unclean_loop_closes() == 0);
}

TEST_CASE("a batch gets one callback, and a future tells a single message's outcome") {
  scoped_queue queue("causeway-publish-batch");
  amqp::publisher_options options;
  options.connection = test_connection(unique_name("causeway-publisher"));
  auto pub = amqp::publisher::open(options);
  REQUIRE(pub);
  std::vector<amqp::outgoing_message> batch;
  for (int i = 0; i < 10; ++i)
    batch.push_back({"", queue.name, std::to_string(i), {}});
  std::promise<amqp::publish_outcome> batch_done;
  std::atomic<int> calls{0};
  (*pub)->publish_batch(std::move(batch), [&](amqp::publish_outcome o) {
    ++calls;
    batch_done.set_value(o);
  });
  auto f = batch_done.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  CHECK(f.get() == amqp::publish_outcome::confirmed);
  CHECK(calls == 1);
  auto single = (*pub)->publish_async({"", queue.name, "single", {}});
  REQUIRE(single.wait_for(10s) == std::future_status::ready);
  CHECK(single.get() == amqp::publish_outcome::confirmed);
  // Publishing to an exchange that does not exist closes the channel (NOT_FOUND); the
  // publisher reopens it and later messages are confirmed again.
  auto lost = (*pub)->publish_async({"no-such-exchange", "k", "x", {}});
  REQUIRE(lost.wait_for(10s) == std::future_status::ready);
  CHECK(lost.get() == amqp::publish_outcome::nacked);
  auto after = (*pub)->publish_async({"", queue.name, "after", {}});
  REQUIRE(after.wait_for(20s) == std::future_status::ready);
  CHECK(after.get() == amqp::publish_outcome::confirmed);
  CHECK((*pub)->wait_confirmed(10s));
}

TEST_CASE("publish_each: every body lands in order with the shared names and properties, one callback for the last") {
  scoped_queue queue("causeway-publish-each");
  auto pub = open_test_publisher("causeway-publisher");
  amqp::message_properties properties;
  properties.content_type = "application/json";
  properties.headers = {{"kind", std::string("aggregate")}};
  constexpr int total = 2500;  // more than the confirm window: some wait in the publisher
  std::vector<std::string> bodies;
  for (int i = 0; i < total; ++i)
    bodies.push_back("{\"n\":" + std::to_string(i) + "}");
  std::promise<amqp::publish_outcome> last;
  std::atomic<int> calls{0};
  pub->publish_each("", queue.name, properties, std::move(bodies), [&](amqp::publish_outcome o) {
    ++calls;
    last.set_value(o);
  });
  auto f = last.get_future();
  REQUIRE(f.wait_for(30s) == std::future_status::ready);
  CHECK(f.get() == amqp::publish_outcome::confirmed);
  REQUIRE(pub->wait_confirmed(10s));
  CHECK(calls == 1);
  auto stats = pub->stats();
  CHECK(stats.published == total);
  CHECK(stats.confirmed == total);
  CHECK(stats.outstanding == 0);
  // Nothing to publish: the callback runs at once, on this thread, and nothing is counted.
  bool is_called = false;
  pub->publish_each("", queue.name, properties, {}, [&](amqp::publish_outcome o) {
    is_called = o == amqp::publish_outcome::confirmed;
  });
  CHECK(is_called);
  CHECK(pub->stats().published == total);
  telluride::test::amqp_session session(broker_url());
  auto received = session.drain(queue.name);
  REQUIRE(received.size() == total);
  for (int i = 0; i < total; ++i) {
    CHECK(received[i].body == "{\"n\":" + std::to_string(i) + "}");
    CHECK(received[i].content_type == "application/json");
    CHECK(received[i].delivery_mode == 2);
    CHECK(received[i].headers["kind"] == "aggregate");
  }
}

TEST_CASE("mandatory: a message routed to no queue is returned before its confirm, counted and reported once") {
  scoped_queue queue("causeway-publish-returned");
  amqp::publisher_options options;
  options.connection = test_connection(unique_name("causeway-publisher"));
  options.mandatory = true;
  std::mutex mutex;
  std::vector<amqp::returned_message> returned;
  options.on_return = [&](const amqp::returned_message& r) {
    std::lock_guard lock(mutex);
    returned.push_back(r);
  };
  auto pub = amqp::publisher::open(options);
  REQUIRE(pub);
  // The default exchange routes by queue name: one to the queue, one to no queue, one to it again.
  std::vector<std::pair<amqp::publish_outcome, std::size_t>> outcomes(3);
  std::vector<std::future<void>> done;
  int i = 0;
  for (const std::string& key : {queue.name, queue.name + "-nobody", queue.name}) {
    auto answered = std::make_shared<std::promise<void>>();
    done.push_back(answered->get_future());
    (*pub)->publish("", key, "m" + std::to_string(i), {}, [&, answered, i](amqp::publish_outcome o) {
      std::lock_guard lock(mutex);
      outcomes[static_cast<std::size_t>(i)] = {o, returned.size()};  // the returns seen by then
      answered->set_value();
    });
    ++i;
  }
  for (auto& f : done)
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
  std::lock_guard lock(mutex);
  REQUIRE(returned.size() == 1);
  CHECK(returned[0].exchange.empty());
  CHECK(returned[0].routing_key == queue.name + "-nobody");
  CHECK(returned[0].reply_code == 312);
  CHECK(returned[0].reply_text == "NO_ROUTE");
  // The broker confirms a returned message all the same, after returning it.
  CHECK(outcomes[1].first == amqp::publish_outcome::confirmed);
  CHECK(outcomes[1].second == 1);
  CHECK(outcomes[0].first == amqp::publish_outcome::confirmed);
  CHECK(outcomes[2].first == amqp::publish_outcome::confirmed);
  CHECK((*pub)->stats().returned == 1);
  CHECK((*pub)->stats().confirmed == 3);
  auto state = amqp::inspect_queue(*queue.admin, queue.name);
  REQUIRE(state);
  CHECK(state->messages_ready == 2);
}

TEST_CASE("a message that cannot be encoded is nacked alone, and the channel and the others go on") {
  scoped_queue queue("causeway-publish-unencodable");
  amqp::publisher_options options;
  options.connection = test_connection(unique_name("causeway-publisher"));
  auto pub = amqp::publisher::open(options);
  REQUIRE(pub);
  auto before = (*pub)->publish_async({"", queue.name, "before", {}});
  auto too_long = (*pub)->publish_async({"", std::string(256, 'k'), "x", {}});
  amqp::outgoing_message huge_headers{"", queue.name, "y", {}};
  huge_headers.properties.headers.push_back({"big", std::string(200000, 'h')});
  auto too_big = (*pub)->publish_async(std::move(huge_headers));
  auto after = (*pub)->publish_async({"", queue.name, "after", {}});
  for (auto* f : {&before, &too_long, &too_big, &after})
    REQUIRE(f->wait_for(10s) == std::future_status::ready);
  CHECK(before.get() == amqp::publish_outcome::confirmed);
  CHECK(too_long.get() == amqp::publish_outcome::nacked);
  CHECK(too_big.get() == amqp::publish_outcome::nacked);
  CHECK(after.get() == amqp::publish_outcome::confirmed);
  CHECK((*pub)->wait_confirmed(10s));
  auto stats = (*pub)->stats();
  CHECK(stats.published == 4);
  CHECK(stats.confirmed == 2);
  CHECK(stats.nacked == 2);
  CHECK(stats.outstanding == 0);
  auto conn = (*pub)->connection()->stats();
  CHECK(conn.losses == 0);
  CHECK(conn.channel_losses == 0);
  CHECK(wait_for_queue(queue.name, 2, 0).ready == 2);
}

TEST_CASE("unconfirmed messages are republished after the publishing connection is lost") {
  scoped_queue queue("causeway-republish");
  amqp::publisher_options options;
  auto name = unique_name("causeway-publisher");
  options.connection = test_connection(name);
  auto pub = amqp::publisher::open(options);
  REQUIRE(pub);
  std::atomic<std::size_t> confirmed{0};
  std::thread closer([&] { close_connections_named(name); });
  // Publish steadily (a few thousand outstanding) until the loss happened, then a bit more.
  std::size_t published = 0;
  auto& conn = *(*pub)->connection();
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::size_t after_loss = 0;
  while (after_loss < 5000 && std::chrono::steady_clock::now() < deadline) {
    if ((*pub)->stats().outstanding > 3000) {
      std::this_thread::sleep_for(1ms);
      continue;
    }
    for (int i = 0; i < 100; ++i, ++published)
      (*pub)->publish("", queue.name, std::to_string(published), {}, [&](amqp::publish_outcome o) {
        if (o == amqp::publish_outcome::confirmed)
          ++confirmed;
      });
    if (conn.stats().losses > 0)
      after_loss += 100;
  }
  closer.join();
  REQUIRE(conn.stats().losses == 1);
  auto waited_from = std::chrono::steady_clock::now();
  bool all_confirmed = (*pub)->wait_confirmed(120s);
  auto s0 = (*pub)->stats();
  MESSAGE("waited " << std::chrono::duration<double>(std::chrono::steady_clock::now() - waited_from).count()
          << " s; published " << published << " confirmed " << s0.confirmed << " nacked " << s0.nacked
          << " outstanding " << s0.outstanding);
  REQUIRE(all_confirmed);
  CHECK(confirmed == published);
  auto stats = (*pub)->stats();
  MESSAGE("published " << published << ", republished " << stats.republished);
  CHECK(stats.republished > 0);
  auto state = amqp::inspect_queue(*queue.admin, queue.name);
  REQUIRE(state);
  CHECK(state->messages_ready >= published);  // at least once: republished ones may be doubled
  CHECK(state->messages_ready <= published + stats.republished);
}

TEST_CASE("a broker alarm blocks publishing: the publisher pauses, counts it once and resumes") {
  private_broker broker(1);  // an alarm blocks every publisher of its broker: not the shared one
  scoped_queue queue("causeway-blocked", {}, broker.url());
  amqp::publisher_options options;
  options.connection = test_connection(unique_name("causeway-publisher"), broker.url());
  auto pub = amqp::publisher::open(options);
  REQUIRE(pub);
  REQUIRE((*pub)->publish_async({"", queue.name, "before", {}}).get() == amqp::publish_outcome::confirmed);

  REQUIRE_MESSAGE(broker.ctl("set_vm_memory_high_watermark absolute 1") == 0, broker.last_output());
  for (int i = 0; i < 10; ++i)
    (*pub)->publish("", queue.name, std::to_string(i));
  REQUIRE(wait_until([&] { return (*pub)->stats().is_blocked; }, 30s));
  CHECK_FALSE((*pub)->wait_confirmed(1s));  // nothing goes out while blocked
  CHECK((*pub)->stats().blocked == 1);

  REQUIRE_MESSAGE(broker.ctl("set_vm_memory_high_watermark 0.4") == 0, broker.last_output());
  REQUIRE((*pub)->wait_confirmed(30s));
  auto stats = (*pub)->stats();
  CHECK_FALSE(stats.is_blocked);
  CHECK(stats.blocked == 1);
  CHECK(stats.confirmed == 11);
  CHECK((*pub)->connection()->stats().losses == 0);
  auto state = amqp::inspect_queue(*queue.admin, queue.name);
  REQUIRE(state);
  CHECK(state->messages_ready == 11);
}
