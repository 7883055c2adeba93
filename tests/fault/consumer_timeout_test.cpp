// Fault matrix: RabbitMQ's consumer_timeout set low (5 s) on a private broker. A daemon that
// holds deliveries unacknowledged for longer (a tight rate limit behind a large prefetch) has its
// channel closed by the broker; it reopens it, takes the redeliveries and counts every reading
// once, applies a control message once and keeps its connection. A daemon running normally
// never trips the timeout.
#include "fault_checks.hpp"

using namespace fault_test;

namespace {

constexpr auto consumer_timeout = 5s;
// The broker looks for overdue acknowledgements at every channel tick (60 s by default).
constexpr auto broker_tick = 1s;

std::string timeout_conf() {
  return "consumer_timeout = " + std::to_string(std::chrono::milliseconds(consumer_timeout).count());
}
std::string tick_config() {
  return "[{rabbit, [{channel_tick_interval, " + std::to_string(std::chrono::milliseconds(broker_tick).count()) +
         "}]}].";
}

/// The lines of the daemon's log saying the broker closed one of its channels.
std::vector<std::string> channel_closes(const daemon_process& d) {
  std::vector<std::string> out;
  for (auto& line : e2e::split_lines(d.log()))
    if (line.find("channel") != std::string::npos && line.find("closed:") != std::string::npos)
      out.push_back(line);
  return out;
}

void held_deliveries_trip_the_timeout(amqp_test::private_broker& broker, std::size_t total) {
  // 300 deliveries in flight, 30 handled a second: the oldest waits ~10 s for its ack.
  daemon_process d{"ctimeout" + std::to_string(::getpid()),
                   {{"amqp_url", broker.url()}, {"prefetch_count", 300},
                    {"rate_limit_allowed", 30}, {"rate_limit_interval", 1000}}};
  d.start();
  reading_set set{100, total, 71, "ctimeout"};
  amqp_session s{broker.url()};
  publish_readings(s, d, set, 0, total);
  CHECK(eventually([&] { return !channel_closes(d).empty(); }, consumer_timeout + 4 * broker_tick + 20s));
  for (const auto& line : channel_closes(d))
    MESSAGE(line);
  CHECK_FALSE(d.exited());
  CHECK(readyz_becomes(d, 200, 20s));  // reopened: consuming again

  // Lift the limit: the backlog drains before the next timeout.
  send_control(s, d, R"({"rate_limit_allowed": 0})", "unlimited");
  event_view events;
  CHECK(eventually([&] { events.update(s, d); return !events.named("config_applied").empty(); }, 60s));
  check_counts_exact(s, d, set.expected(total), total, 0);
  MESSAGE(metric_of(d.port(), "telluride_readings_duplicate_total")
          << " redelivered readings recognised and not counted again");
  CHECK(s.ready(d.route("dead_letter_queue")) == 0);
  events.update(s, d);
  CHECK_MESSAGE(events.named("config_applied").size() == 1, "one control message, applied once");
  // Each channel.close of the broker was answered once: no connection error, no reconnect.
  CHECK(metric_of(d.port(), "telluride_amqp_connection_losses_total") == 0);
  check_alive_ready_and_drained(s, d);
}

void normal_operation_never_trips_it(amqp_test::private_broker& broker, std::size_t bursts) {
  daemon_process d{"cnormal" + std::to_string(::getpid()), {{"amqp_url", broker.url()}}};
  d.start();
  const std::size_t burst = 1000;
  reading_set set{200, bursts * burst, 73, "cnormal"};
  amqp_session s{broker.url()};
  // Load for longer than the timeout (a burst every 500 ms).
  for (std::size_t i = 0; i < bursts; ++i) {
    publish_readings(s, d, set, i * burst, (i + 1) * burst);
    std::this_thread::sleep_for(500ms);
  }
  check_counts_exact(s, d, set.expected(bursts * burst), bursts * burst, 0);
  CHECK(channel_closes(d).empty());
  CHECK(metric_of(d.port(), "telluride_amqp_connection_losses_total") == 0);
  CHECK(metric_of(d.port(), "telluride_readings_duplicate_total") == 0);
  check_alive_ready_and_drained(s, d);
}

} // namespace

// The drain that applies the control message outlasts the timeout too (300 held readings at 30
// a second), so the control message itself is redelivered, maybe more than once, and its
// acknowledgement after the drain is void: each copy is recognised and acknowledged, not applied
// again (control_ledger). RabbitMQ may send channel.close twice for one timeout; only the
// first is answered (integration/amqp/channel_close_test.cpp).
TEST_CASE("a low consumer_timeout: held deliveries trip it and nothing is lost, normal operation never trips it [ci]") {
  amqp_test::private_broker broker{static_cast<int>(broker_slot::consumer_timeout), timeout_conf(), tick_config()};
  held_deliveries_trip_the_timeout(broker, 2000);
  normal_operation_never_trips_it(broker, 16);  // 8 s of load
}

TEST_CASE("a low consumer_timeout: held deliveries trip it and nothing is lost, normal operation never trips it [full]") {
  amqp_test::private_broker broker{static_cast<int>(broker_slot::consumer_timeout), timeout_conf(), tick_config()};
  held_deliveries_trip_the_timeout(broker, 10'000);
  normal_operation_never_trips_it(broker, 120);  // 60 s of load
}
