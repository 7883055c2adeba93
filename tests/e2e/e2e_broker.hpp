// e2e_broker.hpp — looking at the private test broker in end-to-end tests: rabbitmqctl,
// `broker_admin` (declare, count, publish, drain) and `test_routes`. Part of e2e_support.hpp;
// include that.
#pragma once

#include "e2e_process.hpp"

namespace e2e {

// ---------------------------------------------------------------- broker

/// `rabbitmqctl -q ARGS` against the fixture's broker (about a second per call); stdout+stderr.
inline std::string broker_ctl(const std::string& args, int* exit_code = nullptr) {
  command cmd;
  cmd.args = {"/bin/sh", "-c", shell_quote(env_or_fail("TELLURIDE_BROKER_SCRIPT")) + " ctl -q " + args + " 2>&1"};
  cmd.timeout = 60s;
  auto result = run(std::move(cmd));
  if (exit_code != nullptr)
    *exit_code = result.exit_code;
  return result.out;
}

/// The names of the broker's queues (rabbitmqctl; slow).
inline std::vector<std::string> list_queue_names() {
  std::vector<std::string> names;
  for (auto& line : split_lines(broker_ctl("list_queues --no-table-headers name")))
    if (!line.empty())
      names.push_back(line);
  return names;
}

/// A message as a test reads it back.
struct received {
  std::string body;
  std::string message_id;
  std::string correlation_id;
  std::string content_type;
  std::string routing_key;
  std::string headers;  ///< the AMQP headers as one JSON object, "" when there are none
};

/// One AMQP connection to the test broker for setting up and checking queues. Any thread but
/// one of the broker's.
class broker_admin {
public:
  broker_admin() {
    spdlog::set_level(spdlog::level::warn);  // no "connection open" lines in test output
    amqp::connection_options options;
    options.url = broker_url();
    options.name = unique_name("e2e-admin");
    options.connect_timeout = 5s;
    auto opened = amqp::connection::open(options);
    REQUIRE_MESSAGE(opened, (opened ? "" : opened.err().message));
    conn_ = std::move(*opened);
  }

  amqp::connection& connection() { return *conn_; }

  void declare(const amqp::topology_spec& spec) {
    auto done = amqp::declare(*conn_, spec);
    REQUIRE_MESSAGE(done, (done ? "" : done.err().message));
  }
  /// A durable direct exchange.
  void declare_exchange(const std::string& name) {
    amqp::topology_spec spec;
    spec.exchanges.push_back({name, "direct", true, false, {}});
    declare(spec);
  }
  /// A durable queue, bound to `exchange` with `routing_key` when given.
  void declare_queue(const std::string& name, const std::string& exchange = {}, const std::string& routing_key = {},
                     amqp::arguments args = {}) {
    amqp::topology_spec spec;
    spec.queues.push_back({name, true, false, false, std::move(args)});
    if (!exchange.empty())
      spec.bindings.push_back({name, exchange, routing_key, {}});
    declare(spec);
  }
  /// Ready messages of `queue`; -1 when it does not exist.
  long message_count(const std::string& queue) {
    auto state = amqp::inspect_queue(*conn_, queue);
    return state ? static_cast<long>(state->messages_ready) : -1;
  }
  /// Waits until `queue` holds `n` ready messages; returns the last count seen.
  long wait_for_count(const std::string& queue, long n, std::chrono::milliseconds timeout = 20s) {
    long seen = message_count(queue);
    wait_until([&] { return (seen = message_count(queue)) == n; }, timeout, 50ms);
    return seen;
  }
  bool queue_exists(const std::string& queue) { return amqp::inspect_queue(*conn_, queue).has_value(); }
  void purge(const std::string& queue) { (void)amqp::purge_queue(*conn_, queue); }
  void delete_queue(const std::string& queue) { (void)amqp::delete_queue(*conn_, queue); }
  void delete_exchange(const std::string& exchange) { (void)amqp::delete_exchange(*conn_, exchange); }

  /// Publishes persistent JSON messages and waits for the broker's confirms.
  void publish(const std::string& exchange, const std::string& routing_key, const std::vector<std::string>& bodies,
               amqp::message_properties props = {}) {
    if (!publisher_) {
      amqp::publisher_options options;
      auto pub = amqp::publisher::open(options, conn_);
      REQUIRE_MESSAGE(pub, (pub ? "" : pub.err().message));
      publisher_ = std::move(*pub);
    }
    if (props.content_type.empty())
      props.content_type = "application/json";
    for (const auto& body : bodies)
      publisher_->publish(exchange, routing_key, body, props);
    REQUIRE(publisher_->wait_confirmed(20s));
  }

  /// Takes (and acks) `n` messages from `queue`, waiting up to `timeout`; fewer if they do not
  /// come. Messages are returned in delivery order.
  std::vector<received> drain(const std::string& queue, std::size_t n, std::chrono::milliseconds timeout = 30s) {
    telluride::tools::tap_options options;
    options.connection.url = broker_url();
    options.connection.name = unique_name("e2e-drain");
    options.queue = queue;
    options.prefetch_count = 1000;
    auto tap = telluride::tools::queue_tap::open(std::move(options));
    REQUIRE_MESSAGE(tap, (tap ? "" : tap.err().message));
    std::vector<received> out;
    auto deadline = std::chrono::steady_clock::now() + within_budget(timeout);
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto batch = (*tap)->take(100ms);
      std::vector<causeway::message> done;
      for (auto& m : batch) {
        if (out.size() >= n)
          break;
        out.push_back({m.data, std::string(m.metadata.get("message_id")), std::string(m.metadata.get("correlation_id")),
                       std::string(m.metadata.get("content_type")), std::string(m.metadata.get("routing_key")),
                       std::string(m.metadata.get("headers"))});
        done.push_back(std::move(m));
      }
      (*tap)->acknowledge(done);
    }
    return out;
  }

private:
  std::shared_ptr<amqp::connection> conn_;
  std::shared_ptr<amqp::publisher> publisher_;
};

/// A config file whose route names (exchanges and queues) and state stream belong to this test
/// alone; the exchanges and queues (shard queues and stream included) are deleted, and the file
/// removed, when it goes.
class test_routes {
public:
  explicit test_routes(const std::string& label, nlohmann::json extra = nlohmann::json::object())
    : prefix_(unique_name("e2e-" + label)) {
    routes_ = {
      {"exchange", prefix_ + ".sensor_events"},
      {"events_exchange", prefix_ + ".broadway_events"},
      {"readings_routing_key", "sensor.reading"},
      {"readings_queue", prefix_ + ".sensor_reading_queue"},
      {"control_routing_key", "sensor.config"},
      {"control_queue", prefix_ + ".broadway_config_queue"},
      {"aggregates_routing_key", "sensor.health"},
      {"aggregates_queue", prefix_ + ".sensor_health_queue"},
      {"metrics_routing_key", "sensor.metric"},
      {"metrics_queue", prefix_ + ".sensor_metric_queue"},
      {"alerts_routing_key", "sensor.alert"},
      {"alerts_queue", prefix_ + ".sensor_alert_queue"},
      {"throughput_routing_key", "broadway.throughput"},
      {"throughput_queue", prefix_ + ".broadway_throughput_queue"},
      {"events_routing_key", "broadway.event"},
      {"events_queue", prefix_ + ".broadway_event_queue"},
      {"dead_letter_routing_key", "dlx_key"},
      {"dead_letter_queue", prefix_ + ".dlx_queue"},
      {"shards_exchange", prefix_ + ".sensor_shards"},
    };
    nlohmann::json file = std::move(extra);
    file["routes"] = routes_;
    if (!file.contains("state_stream"))
      file["state_stream"] = prefix_ + ".telluride_state";
    state_stream_ = file["state_stream"].get<std::string>();
    shards_ = file.value("shards", 1);
    path_ = std::filesystem::temp_directory_path() / (prefix_ + ".json");
    std::ofstream(path_) << file.dump(2);
  }
  ~test_routes() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    try {
      broker_admin admin;
      for (const auto& [key, name] : routes_.items())
        if (key.ends_with("_queue"))
          admin.delete_queue(name.get<std::string>());
      for (int shard = 0; shard < shards_; ++shard)
        admin.delete_queue(name("readings_queue") + "." + std::to_string(shard));
      admin.delete_queue(state_stream_);
      admin.delete_exchange(state_stream_);  // durable mode publishes its checkpoints there
      admin.delete_exchange(state_stream_ + ".members");  // heartbeats with shards > 1
      // Its snapshot index: a queue per shard of the layout (and of a layout of 1, which a
      // test that changes shards may have used), and their exchange.
      for (int shard = 0; shard < shards_; ++shard)
        admin.delete_queue(state_stream_ + ".index." + std::to_string(shards_) + "." + std::to_string(shard));
      admin.delete_queue(state_stream_ + ".index.1.0");
      admin.delete_exchange(state_stream_ + ".index");
      admin.delete_exchange(routes_["exchange"].get<std::string>());
      admin.delete_exchange(routes_["events_exchange"].get<std::string>());
      admin.delete_exchange(routes_["shards_exchange"].get<std::string>());
    } catch (...) {
    }
  }
  test_routes(const test_routes&) = delete;
  test_routes& operator=(const test_routes&) = delete;

  std::string path() const { return path_.string(); }
  /// The file's state_stream (this test's own unless `extra` names one).
  const std::string& state_stream() const { return state_stream_; }
  /// A route name of the file, e.g. `name("readings_queue")`.
  std::string name(const std::string& key) const { return routes_.at(key).get<std::string>(); }

private:
  std::string prefix_;
  nlohmann::json routes_;
  std::string state_stream_;
  int shards_ = 1;
  std::filesystem::path path_;
};

} // namespace e2e
