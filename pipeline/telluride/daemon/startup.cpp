#include "telluride/daemon/startup.hpp"

#include "telluride/cli/commands.hpp"
#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/durable_state.hpp"
#include "telluride/daemon/reading_decoder.hpp"
#include "telluride/daemon/readings_lock.hpp"
#include "telluride/domain/config_schema.hpp"
#include "telluride/domain/sensor_quota.hpp"

#include <causeway/amqp/url.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include <malloc.h>
#include <unistd.h>

namespace telluride {

namespace {

constexpr const char* default_config_file = "config/telluride.json";

bool is_unreachable(const std::string& message) {
  return message.find("connect to ") != std::string::npos;
}

/// `<hostname>-<pid>` (CONTRACT §7): unique among the daemons of one machine.
std::string default_node_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "localhost");
  return std::string(host) + "-" + std::to_string(::getpid());
}

} // namespace

quiet_logs::quiet_logs() : saved_(static_cast<int>(spdlog::get_level())) { spdlog::set_level(spdlog::level::err); }
quiet_logs::~quiet_logs() { spdlog::set_level(static_cast<spdlog::level::level_enum>(saved_)); }

expected<config> load_daemon_config(const daemon_options& options) {
  config cfg;
  if (options.config_path) {
    auto loaded = load_config_file(*options.config_path);
    if (!loaded)
      return loaded.err();
    cfg = std::move(*loaded);
  } else if (std::filesystem::exists(default_config_file)) {
    auto loaded = load_config_file(default_config_file);
    if (!loaded)
      return loaded.err();
    cfg = std::move(*loaded);
  }
  nlohmann::json overrides = nlohmann::json::object();
  overrides["amqp_url"] = cli::amqp_url(options.amqp_url, cfg.amqp_url);
  if (!options.http_listen.empty())
    overrides["http_listen"] = options.http_listen;
  if (options.max_sensors)
    overrides["max_sensors"] = *options.max_sensors;
  for (const auto& [key, text] : options.config_flags) {
    auto value = parse_flag_value(key, text);
    if (!value)
      return value.err();
    overrides[key] = std::move(*value);
  }
  auto merged = merge_config(cfg, overrides);
  if (!merged)
    return merged.err();
  if (merged->node_name.empty())
    merged->node_name = default_node_name();
  if (auto url = causeway::amqp::parse_url(merged->amqp_url); !url)
    return error{"invalid AMQP URL " + mask_password(merged->amqp_url) + ": " + url.err().message};
  return merged;
}

void keep_large_buffers_mapped() {
  constexpr int largest_kept = 16 << 20;
  // Setting either one fixes the other's default too (no dynamic threshold): both are set.
  mallopt(M_MMAP_THRESHOLD, largest_kept);
  mallopt(M_TRIM_THRESHOLD, largest_kept);
}

std::size_t message_id_capacity(const config& cfg) {
  // A broker failure redelivers at most producers × prefetch readings; remember several such
  // windows at the largest the bounds allow today, and never fewer than 64 Ki ids (1.5 MiB).
  return std::max<std::size_t>(65536, 8 * cfg.producer_concurrency * cfg.prefetch_count);
}

std::shared_ptr<sensor_tracker> make_tracker(const config& cfg, const alert_rules& rules, std::uint64_t max_sensors) {
  constexpr std::size_t memory_tracker_shards = 16;
  constexpr std::size_t durable_tracker_shards = 1;
  if (cfg.shards > 1) {
    // Each slot's window is allocated whole, owned or not, so the total stays near one shard's.
    const std::size_t ids =
      std::max<std::size_t>(message_id_capacity(cfg), std::size_t{cfg.shards} * 2 * cfg.prefetch_count);
    return std::make_shared<sensor_tracker>(cfg.shards, sensor_tracker::routing::by_layout, rules, ids, max_sensors);
  }
  const bool is_durable = cfg.state == state_mode::durable;
  return std::make_shared<sensor_tracker>(is_durable ? durable_tracker_shards : memory_tracker_shards, rules,
                                          message_id_capacity(cfg), max_sensors);
}

std::uint64_t max_sensors_bound(const config& cfg) {
  if (cfg.max_sensors != 0)
    return cfg.max_sensors;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  const std::uint64_t physical = pages > 0 && page_size > 0
                                   ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size)
                                   : std::uint64_t{1} << 30;  // unknown: as if 1 GiB
  return std::max<std::uint64_t>(1, max_sensors_for_memory(physical));
}

causeway::amqp::connection_options base_connection(const config& cfg, std::chrono::milliseconds timeout) {
  causeway::amqp::connection_options base;
  base.url = cfg.amqp_url;
  base.connect_timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(5000));
  return base;
}

expected<void> retry_unreachable(const config& cfg, std::chrono::milliseconds timeout,
                                 const std::function<expected<void>()>& attempt) {
  // Only an unreachable broker is retried, silently, so a failure stays one line.
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + timeout;
  std::chrono::milliseconds backoff{100};
  std::mt19937 rng{std::random_device{}()};
  for (;;) {
    auto done = attempt();
    if (done)
      return {};
    const auto& why = done.err().message;
    auto now = std::chrono::steady_clock::now();
    if (!is_unreachable(why) || now >= deadline) {
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
      auto retried = is_unreachable(why) && waited.count() >= 1000
                       ? " (retried for " + std::to_string(waited.count() / 1000) + " s)"
                       : std::string{};
      return error{"cannot start on the broker at " + mask_password(cfg.amqp_url) + ": " + why + retried};
    }
    std::uniform_int_distribution<long> jitter{0, backoff.count() / 2};
    auto pause = backoff + std::chrono::milliseconds(jitter(rng));
    std::this_thread::sleep_until(std::min(now + pause, deadline));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

expected<broker_connections> connect_broker(const config& cfg, std::chrono::milliseconds timeout,
                                            broker_wants wants) {
  using namespace causeway::amqp;
  const connection_options base = base_connection(cfg, timeout);
  // Declare first: it proves the broker is reachable, the login works and nothing conflicts.
  auto declared = retry_unreachable(cfg, timeout, [&]() -> expected<void> {
    const quiet_logs quiet;
    auto conn = connection::open(base);
    if (!conn)
      return conn.err();
    if (!wants.declare)
      return {};
    return declare_broker_topology(**conn, cfg);
  });
  if (!declared)
    return declared.err();

  broker_connections out;
  publisher_options pub;
  pub.connection = base;
  pub.connection.name = "telluride-publisher";
  auto publisher = publisher::open(pub);
  if (!publisher)
    return error{"cannot open the publishing connection: " + publisher.err().message};
  out.publisher = *publisher;

  auto queue_options = [&](const std::string& queue, std::uint16_t prefetch) {
    queue_source_options o;
    o.connection = base;
    o.connection.name = "telluride-consumer";
    o.connection.longest_read_interval = queue_source_options::default_connection().longest_read_interval;
    o.queue = queue;
    queue_declaration d;
    d.durable = true;
    d.args = {{"x-dead-letter-exchange", cfg.routes.exchange},
              {"x-dead-letter-routing-key", cfg.routes.dead_letter_routing_key}};
    o.declare = d;
    o.prefetch_count = prefetch;
    // Failed messages are dead-lettered by the daemon itself, with their reason; the original
    // is then acknowledged.
    o.on_failure = failure_policy::ack;
    return o;
  };
  auto readings_options = queue_options(cfg.routes.readings_queue, cfg.prefetch_count);
  // What the readings' handlers read: message_id (counted once), and what a dead-lettered
  // reading keeps (outputs::dead_letter). Not the delivery tag, exchange, timestamp or headers
  // (`telluride sensors` sets the sensor_key header on every reading: JSON for nothing).
  readings_options.metadata.delivery_tag = false;
  readings_options.metadata.exchange = false;
  readings_options.metadata.timestamp = false;
  readings_options.metadata.headers = false;
  // Each reading is decoded on the connection thread as it is read, while its body is in that
  // core's cache (queue_source_options::on_read); the decoded reading stays with the message and
  // its processor does not decode it again. With producer_concurrency > 1, a sensor's readings
  // arrive on every channel: each goes to the producer stage its sensor picks, so a sensor's
  // readings reach their processor in the order the daemon read them (route_by; the decoded
  // reading's hash).
  readings_options.on_read = [](causeway::message& msg) { decode_reading(msg); };
  readings_options.route_by = decode_reading;
  if (wants.durable != nullptr)
    wants.durable->hook(readings_options);
  if (wants.lock)
    readings_options.before_consume = [lock = wants.lock](channel& ch) { return lock->before_consume(ch); };
  auto readings = queue_source::open(std::move(readings_options));
  if (!readings)
    return error{"cannot consume " + cfg.routes.readings_queue + ": " + readings.err().message};
  out.readings = *readings;
  if (!wants.control)
    return out;
  if (cfg.shards == 1) {
    auto control = queue_source::open(queue_options(cfg.routes.control_queue, 16), out.readings->connection());
    if (!control)
      return error{"cannot consume " + cfg.routes.control_queue + ": " + control.err().message};
    out.control = *control;
    return out;
  }

  // K > 1: this daemon applies what arrives in its own queue, and forwards the control queue
  // while it holds the forwarding lock (control_forwarder.hpp).
  auto own = queue_options(node_control_queue(cfg), 16);
  own.declare->args.push_back({"x-expires", node_control_queue_expiry_ms});
  own.declare->args.push_back({"x-max-length", node_control_queue_max});
  own.bindings.push_back({control_nodes_exchange(cfg.routes), "", {}});
  auto control = queue_source::open(std::move(own), out.readings->connection());
  if (!control)
    return error{"cannot consume " + node_control_queue(cfg) + ": " + control.err().message};
  out.control = *control;

  auto shared = queue_options(cfg.routes.control_queue, 16);
  shared.connection.name = "telluride-control-forwarder";
  // The channel retries the lock with the connection's backoff: within 2 s of its holder going.
  shared.connection.reconnect.max = std::chrono::milliseconds(2000);
  // Given back once (the forward was refused), then dead-lettered by the queue.
  shared.on_failure = failure_policy::reject_and_requeue_once;
  shared.before_consume = [lock = control_lock_queue(cfg.routes)](channel& ch) -> failure {
    failure f = declare_queue(ch, queue_spec{lock, false, true, true, {}});  // transient, exclusive, auto-delete
    if (f && f.code == 405) {  // RESOURCE_LOCKED: the forwarder is another daemon, as it should be
      f.message = "another daemon forwards the control queue (its connection holds " + lock +
                  "); this one takes over when that connection closes";
      f.is_expected = true;
    }
    return f;
  };
  auto forwarded = queue_source::open(std::move(shared));
  if (!forwarded)
    return error{"cannot consume " + cfg.routes.control_queue + ": " + forwarded.err().message};
  out.forwarded_control = *forwarded;
  return out;
}

} // namespace telluride
