// The daemon's sharded readings route and its state stream on the real broker (the ctest
// fixture's, with the plugins deploy/rabbitmq-local.sh enables): where readings land for
// K = 4, K = 2 after 4, and K = 1 again, and a stream read from its first message.
#include "amqp_session.hpp"
#include "broker_helpers.hpp"
#include "stream_reader.hpp"

#include "telluride/daemon/broker_topology.hpp"
#include "telluride/domain/config_schema.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace amqp = causeway::amqp;
using namespace std::chrono_literals;
using telluride::config;
using telluride::test::amqp_session;
using telluride::test::stream_reader;

namespace {

/// A config whose every broker name (routes, state stream) belongs to this test alone; what it
/// declared is deleted when it goes.
class private_names {
public:
  explicit private_names(const std::string& label) : prefix_(amqp_test::unique_name("it-" + label) + ".") {
    spdlog::set_level(spdlog::level::warn);
    for (const auto& route : telluride::route_options())
      cfg.routes.*route.field = prefix_ + std::string(route.default_name);
    cfg.state_stream = prefix_ + "telluride_state";
    amqp::connection_options options;
    options.url = amqp_test::broker_url();
    options.name = prefix_ + "admin";
    auto opened = amqp::connection::open(options);
    REQUIRE_MESSAGE(opened, (opened ? "" : opened.err().message));
    conn_ = std::move(*opened);
  }
  ~private_names() {
    for (std::uint32_t shard = 0; shard < 8; ++shard)
      (void)amqp::delete_queue(*conn_, telluride::shard_queue(cfg.routes, shard));
    for (const auto& route : telluride::route_options())
      if (route.key.ends_with("_queue"))
        (void)amqp::delete_queue(*conn_, cfg.routes.*route.field);
    (void)amqp::delete_queue(*conn_, cfg.state_stream);
    for (const auto* exchange : {&cfg.routes.exchange, &cfg.routes.events_exchange, &cfg.routes.shards_exchange})
      (void)amqp::delete_exchange(*conn_, *exchange);
  }
  private_names(const private_names&) = delete;
  private_names& operator=(const private_names&) = delete;

  amqp::connection& connection() { return *conn_; }

  /// Declares the daemon's topology for `shards` as the daemon does at start-up.
  void declare(std::uint32_t shards) {
    cfg.shards = shards;
    auto declared = telluride::declare_broker_topology(*conn_, cfg);
    REQUIRE_MESSAGE(declared, (declared ? "" : declared.err().message));
  }

  long ready(const std::string& queue) {
    auto state = amqp::inspect_queue(*conn_, queue);
    return state ? static_cast<long>(state->messages_ready) : -1;
  }

  config cfg;

private:
  std::string prefix_;
  std::shared_ptr<amqp::connection> conn_;
};

std::string reading_of(int sensor, int n) {
  return nlohmann::json{{"line_id", 1}, {"device_id", sensor / 10}, {"sensor_id", sensor}, {"reading", n},
                        {"timestamp", "2021-02-12T01:18:51.838675Z"}}
    .dump();
}

/// Publishes `per_sensor` readings of each of `sensors` sensors to the readings route, with
/// the header sensor_key as `telluride sensors` sets it; waits for the confirms.
void publish_readings(amqp_session& session, const config& cfg, int sensors, int per_sensor, bool with_key = true) {
  for (int n = 0; n < per_sensor; ++n)
    for (int sensor = 0; sensor < sensors; ++sensor) {
      std::map<std::string, std::string> headers;
      if (with_key)
        headers["sensor_key"] = "1/" + std::to_string(sensor / 10) + "/" + std::to_string(sensor);
      session.publish(cfg.routes.exchange, cfg.routes.readings_routing_key, reading_of(sensor, n), {}, {}, headers);
    }
  session.wait_confirms();
}

/// Which queue each sensor's readings landed in: sensor id → queues (emptied on the way).
std::map<int, std::set<std::string>> where_sensors_landed(amqp_session& session, const std::vector<std::string>& queues,
                                                          std::map<std::string, long>& counts) {
  std::map<int, std::set<std::string>> landed;
  for (const auto& queue : queues)
    for (const auto& message : session.drain(queue)) {
      landed[nlohmann::json::parse(message.body)["sensor_id"].get<int>()].insert(queue);
      ++counts[queue];
    }
  return landed;
}

} // namespace

TEST_CASE("with 4 shards every sensor's readings land in exactly one shard queue, each queue gets some, the readings queue none") {
  private_names names{"shards4"};
  names.declare(4);
  names.declare(4);  // idempotent: a second start declares the same
  const auto& routes = names.cfg.routes;
  amqp_session session{amqp_test::broker_url()};
  publish_readings(session, names.cfg, 200, 5);

  std::vector<std::string> shard_queues;
  for (std::uint32_t shard = 0; shard < 4; ++shard)
    shard_queues.push_back(telluride::shard_queue(routes, shard));
  long total = 0;
  REQUIRE(amqp_test::wait_until(
    [&] {
      total = 0;
      for (const auto& queue : shard_queues)
        total += names.ready(queue);
      return total == 1000;
    },
    10s));
  CHECK(names.ready(routes.readings_queue) == 0);
  std::map<std::string, long> counts;
  auto landed = where_sensors_landed(session, shard_queues, counts);
  CHECK(landed.size() == 200);
  for (const auto& [sensor, queues] : landed) {
    CAPTURE(sensor);
    CHECK(queues.size() == 1);
  }
  long counted = 0;
  for (const auto& queue : shard_queues) {
    CAPTURE(queue);
    CHECK(counts[queue] % 5 == 0);  // whole sensors
    CHECK(counts[queue] >= 100);    // 20 % of the sensors at least (1/4 expected)
    counted += counts[queue];
  }
  CHECK(counted == 1000);

  // Readings without the header all hash alike: one shard takes them all.
  publish_readings(session, names.cfg, 30, 1, false);
  counts.clear();
  REQUIRE(amqp_test::wait_until([&] {
    long n = 0;
    for (const auto& queue : shard_queues)
      n += names.ready(queue);
    return n == 30;
  }, 10s));
  where_sensors_landed(session, shard_queues, counts);
  CHECK(counts.size() == 1);
  CHECK(counts.begin()->second == 30);
  CHECK(names.ready(routes.readings_queue) == 0);
}

TEST_CASE("going from 4 shards to 2 unbinds the shard queues left behind, and back to 1 binds the readings queue again") {
  private_names names{"reshard"};
  const auto& routes = names.cfg.routes;
  amqp_session session{amqp_test::broker_url()};
  names.declare(4);
  names.declare(2);
  publish_readings(session, names.cfg, 100, 2);
  REQUIRE(amqp_test::wait_until([&] {
    return names.ready(telluride::shard_queue(routes, 0)) + names.ready(telluride::shard_queue(routes, 1)) == 200;
  }, 10s));
  CHECK(names.ready(telluride::shard_queue(routes, 0)) > 0);
  CHECK(names.ready(telluride::shard_queue(routes, 1)) > 0);
  CHECK(names.ready(telluride::shard_queue(routes, 2)) == 0);  // still there, no longer bound
  CHECK(names.ready(telluride::shard_queue(routes, 3)) == 0);
  CHECK(names.ready(routes.readings_queue) == 0);

  names.declare(1);
  publish_readings(session, names.cfg, 10, 3);
  CHECK(amqp_test::wait_until([&] { return names.ready(routes.readings_queue) == 30; }, 10s));
  // The shard queues keep what they held and get nothing more; the sharded exchange is gone.
  CHECK(names.ready(telluride::shard_queue(routes, 0)) + names.ready(telluride::shard_queue(routes, 1)) == 200);
  CHECK(names.ready(telluride::shard_queue(routes, 2)) == 0);
  auto exchange = amqp::inspect_exchange(names.connection(), routes.shards_exchange);
  REQUIRE_FALSE(exchange);
  CHECK(exchange.err().message.find("NOT_FOUND") != std::string::npos);
  names.declare(1);  // idempotent: deleting the missing exchange again is no error
  CHECK(names.ready(routes.readings_queue) == 30);
}

TEST_CASE("the state stream is declared with its retention and read from its first message with offsets") {
  private_names names{"stream"};
  names.declare(1);
  names.declare(1);  // the same arguments again: no PRECONDITION_FAILED
  const std::string& stream = names.cfg.state_stream;
  amqp_session session{amqp_test::broker_url()};
  for (int i = 0; i < 5; ++i)
    session.publish("", stream, "record-" + std::to_string(i));
  session.wait_confirms();

  // From "first", with a prefetch of 2: acks grant the credit for the rest.
  stream_reader from_first{amqp_test::broker_url(), stream, std::string("first"), 2};
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    auto delivery = from_first.next(5s);
    REQUIRE(delivery);
    CHECK(delivery->body == "record-" + std::to_string(i));
    CHECK(delivery->offset == std::optional<std::int64_t>{i});
    CHECK_FALSE(delivery->redelivered);
    from_first.ack(delivery->delivery_tag);
  }
  CHECK_FALSE(from_first.next(300ms));  // the end: nothing more arrives, and nothing says so

  // Reading does not consume: a second reader from "first" sees the same five.
  stream_reader again{amqp_test::broker_url(), stream, std::string("first"), 10};
  for (int i = 0; i < 5; ++i) {
    auto delivery = again.next(5s);
    REQUIRE(delivery);
    CHECK(delivery->offset == std::optional<std::int64_t>{i});
    again.ack(delivery->delivery_tag);
  }

  // "next" waits for what is written after it subscribed; both readers get it, offset 5.
  stream_reader from_next{amqp_test::broker_url(), stream, std::string("next"), 10};
  CHECK_FALSE(from_next.next(300ms));
  session.publish("", stream, "record-5");
  session.wait_confirms();
  for (auto* reader : {&from_next, &again}) {
    auto delivery = reader->next(5s);
    REQUIRE(delivery);
    CHECK(delivery->body == "record-5");
    CHECK(delivery->offset == std::optional<std::int64_t>{5});
  }

  // A numeric offset starts there.
  stream_reader from_three{amqp_test::broker_url(), stream, std::int64_t{3}, 10};
  auto third = from_three.next(5s);
  REQUIRE(third);
  CHECK(third->offset == std::optional<std::int64_t>{3});
  CHECK(third->body == "record-3");
}
