// What the daemon declares for its config (broker_topology.hpp), as lines a reader can check
// against docs/wire-format.md (Routes; Shards and the state stream), without a broker.
#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/snapshot_index_store.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

namespace amqp = causeway::amqp;
using telluride::config;

namespace {

std::string shown(const amqp::arguments& args) {
  std::string out;
  for (const auto& [key, value] : args) {
    out += out.empty() ? " {" : ", ";
    out += key + "=";
    if (const auto* text = std::get_if<std::string>(&value))
      out += *text;
    else if (const auto* number = std::get_if<std::int64_t>(&value))
      out += std::to_string(*number);
    else
      out += std::get<bool>(value) ? "true" : "false";
  }
  return out.empty() ? out : out + "}";
}

/// One line per declaration, in the order the broker gets them.
std::vector<std::string> lines(const amqp::topology_spec& spec) {
  std::vector<std::string> out;
  for (const auto& e : spec.exchanges)
    out.push_back("exchange " + e.name + " " + e.type + (e.durable ? " durable" : "") +
                  (e.auto_delete ? " auto-delete" : "") + shown(e.args));
  for (const auto& q : spec.queues)
    out.push_back("queue " + q.name + (q.durable ? " durable" : "") + (q.exclusive ? " exclusive" : "") +
                  (q.auto_delete ? " auto-delete" : "") + shown(q.args));
  for (const auto& b : spec.bindings)
    out.push_back("bind " + b.queue + " to " + b.exchange + " key " + b.routing_key + shown(b.args));
  for (const auto& b : spec.exchange_bindings)
    out.push_back("bind exchange " + b.destination + " to " + b.source + " key " + b.routing_key + shown(b.args));
  for (const auto& b : spec.unbindings)
    out.push_back("unbind " + b.queue + " from " + b.exchange + " key " + b.routing_key + shown(b.args));
  for (const auto& e : spec.deleted_exchanges)
    out.push_back("delete exchange " + e);
  return out;
}

const std::string dead_letter = " {x-dead-letter-exchange=sensor_events, x-dead-letter-routing-key=dlx_key}";

const std::vector<std::string> routes_without_readings_binding = {
  "bind broadway_config_queue to sensor_events key sensor.config",
  "bind sensor_health_queue to sensor_events key sensor.health",
  "bind sensor_metric_queue to sensor_events key sensor.metric",
  "bind sensor_alert_queue to sensor_events key sensor.alert",
  "bind broadway_throughput_queue to broadway_events key broadway.throughput",
  "bind broadway_event_queue to broadway_events key broadway.event",
  "bind dlx_queue to sensor_events key dlx_key",
};

} // namespace

TEST_CASE("with one shard the daemon declares the contract's routes and the state stream, and no sharded exchange") {
  const config cfg;
  std::vector<std::string> expected = {
    "exchange sensor_events direct durable",
    "exchange broadway_events direct durable",
    "exchange telluride_state fanout durable",
    "queue sensor_reading_queue durable" + dead_letter,
    "queue broadway_config_queue durable" + dead_letter,
    "queue sensor_health_queue durable",
    "queue sensor_metric_queue durable",
    "queue sensor_alert_queue durable",
    "queue broadway_throughput_queue durable",
    "queue broadway_event_queue durable",
    "queue dlx_queue durable",
    "queue telluride_state durable {x-queue-type=stream, x-max-length-bytes=1073741824, "
    "x-stream-max-segment-size-bytes=67108864}",
    "bind sensor_reading_queue to sensor_events key sensor.reading",
  };
  expected.insert(expected.end(), routes_without_readings_binding.begin(), routes_without_readings_binding.end());
  expected.push_back("bind telluride_state to telluride_state key ");  // checkpoints are published there
  expected.push_back("delete exchange sensor_shards");
  CHECK(lines(telluride::broker_topology(cfg)) == expected);
  // Shard queues left behind by an earlier, larger K are unbound with the exchange's deletion.
  CHECK(lines(telluride::broker_topology(cfg, 7)) == expected);
}

TEST_CASE("with K shards readings go through the consistent-hash exchange to K single-active-consumer queues") {
  config cfg;
  cfg.shards = 3;
  cfg.state = telluride::state_mode::memory;
  const std::string shard_args = " {x-dead-letter-exchange=sensor_events, x-dead-letter-routing-key=dlx_key, "
                                 "x-single-active-consumer=true}";
  std::vector<std::string> expected = {
    "exchange sensor_events direct durable",
    "exchange broadway_events direct durable",
    "exchange sensor_shards x-consistent-hash durable {hash-header=sensor_key}",
    "exchange telluride_state.members fanout durable",  // the daemons' heartbeats
    "exchange broadway_config_queue.nodes fanout durable",  // reconfigurations forwarded to every daemon
    "queue sensor_reading_queue durable" + dead_letter,
    "queue broadway_config_queue durable" + dead_letter,
    "queue sensor_health_queue durable",
    "queue sensor_metric_queue durable",
    "queue sensor_alert_queue durable",
    "queue broadway_throughput_queue durable",
    "queue broadway_event_queue durable",
    "queue dlx_queue durable",
    "queue sensor_reading_queue.0 durable" + shard_args,
    "queue sensor_reading_queue.1 durable" + shard_args,
    "queue sensor_reading_queue.2 durable" + shard_args,
  };
  expected.insert(expected.end(), routes_without_readings_binding.begin(), routes_without_readings_binding.end());
  expected.insert(expected.end(), {
    "bind sensor_reading_queue.0 to sensor_shards key 1",
    "bind sensor_reading_queue.1 to sensor_shards key 1",
    "bind sensor_reading_queue.2 to sensor_shards key 1",
    "bind exchange sensor_shards to sensor_events key sensor.reading",
    "unbind sensor_reading_queue from sensor_events key sensor.reading",
  });
  CHECK(lines(telluride::broker_topology(cfg)) == expected);

  // From an earlier K = 5: shards 3 and 4 stop receiving (their queues keep what they hold).
  expected.push_back("unbind sensor_reading_queue.3 from sensor_shards key 1");
  expected.push_back("unbind sensor_reading_queue.4 from sensor_shards key 1");
  CHECK(lines(telluride::broker_topology(cfg, 2)) == expected);
}

TEST_CASE("the sharded route follows the configured names") {
  config cfg;
  cfg.shards = 2;
  cfg.routes.exchange = "ex";
  cfg.routes.readings_queue = "readings";
  cfg.routes.readings_routing_key = "reading";
  cfg.routes.dead_letter_routing_key = "dead";
  cfg.routes.shards_exchange = "hash";
  CHECK(telluride::shard_queue(cfg.routes, 1023) == "readings.1023");
  CHECK(lines(telluride::sharded_readings_topology(cfg)) == std::vector<std::string>{
    "exchange hash x-consistent-hash durable {hash-header=sensor_key}",
    "queue readings.0 durable {x-dead-letter-exchange=ex, x-dead-letter-routing-key=dead, x-single-active-consumer=true}",
    "queue readings.1 durable {x-dead-letter-exchange=ex, x-dead-letter-routing-key=dead, x-single-active-consumer=true}",
    "bind readings.0 to hash key 1",
    "bind readings.1 to hash key 1",
    "bind exchange hash to ex key reading",
    "unbind readings from ex key reading",
  });
  cfg.shards = 1;
  cfg.state_stream = "my_state";
  const auto declared = lines(telluride::broker_topology(cfg));
  CHECK(declared.back() == "delete exchange hash");
  CHECK(std::count(declared.begin(), declared.end(),
                   "queue my_state durable {x-queue-type=stream, x-max-length-bytes=1073741824, "
                   "x-stream-max-segment-size-bytes=67108864}") == 1);
  CHECK(std::count(declared.begin(), declared.end(), "bind readings to ex key reading") == 1);
  CHECK(std::count(declared.begin(), declared.end(), "exchange my_state fanout durable") == 1);
  CHECK(std::count(declared.begin(), declared.end(), "bind my_state to my_state key ") == 1);
  cfg.state = telluride::state_mode::memory;  // no stream, no exchange of its name
  const auto in_memory = lines(telluride::broker_topology(cfg));
  CHECK(std::none_of(in_memory.begin(), in_memory.end(),
                     [](const std::string& line) { return line.find("my_state") != std::string::npos; }));
}

TEST_CASE("a broker without the consistent-hash plugin is named in the error, other errors pass unchanged") {
  CHECK(telluride::explain_declaration_failure(
          "declare exchange \"sensor_shards\": COMMAND_INVALID - unknown exchange type 'x-consistent-hash'") ==
        "shards > 1 needs the broker plugin rabbitmq_consistent_hash_exchange, which is not enabled (declare "
        "exchange \"sensor_shards\": COMMAND_INVALID - unknown exchange type 'x-consistent-hash'); enable it with: "
        "rabbitmq-plugins enable rabbitmq_consistent_hash_exchange (deploy/rabbitmq-local.sh does), or set shards "
        "to 1");
  CHECK(telluride::explain_declaration_failure(
          "declare exchange \"h\": COMMAND_INVALID - invalid exchange type 'x-consistent-hash'")
          .starts_with("shards > 1 needs the broker plugin rabbitmq_consistent_hash_exchange, which is not enabled ("));
  const std::string other = "declare queue \"q\": PRECONDITION_FAILED - inequivalent arg 'x-max-length-bytes' for queue 'q'";
  CHECK(telluride::explain_declaration_failure(other) == other);
  const std::string unknown_other = "declare exchange \"x\": COMMAND_INVALID - unknown exchange type 'x-foo'";
  CHECK(telluride::explain_declaration_failure(unknown_other) == unknown_other);
}

TEST_CASE("a shard's snapshot index entry: the index exchange, a one-entry queue named by layout and shard, bound by both") {
  CHECK(lines(telluride::snapshot_index_topology("telluride_state", {12, 3})) ==
        std::vector<std::string>{
          "exchange telluride_state.index direct durable",
          "queue telluride_state.index.12.3 durable {x-max-length=1}",
          "bind telluride_state.index.12.3 to telluride_state.index key 12.3",
        });
  CHECK(lines(telluride::snapshot_index_topology("other", {1, 0}))[1] == "queue other.index.1.0 durable {x-max-length=1}");
}
