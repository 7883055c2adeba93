#include "daemon/daemon_setup.hpp"

#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/layout_record.hpp"
#include "telluride/daemon/snapshot_index_store.hpp"
#include "telluride/domain/config_schema.hpp"

#include <fstream>

namespace amqp = causeway::amqp;

namespace daemon_bench {

telluride::route_names prefixed_routes(const std::string& prefix) {
  telluride::route_names r;
  for (const auto& route : telluride::route_options())
    r.*route.field = prefix + std::string{route.default_name};
  return r;
}

telluride::config config_under(const std::string& prefix, telluride::state_mode mode, std::uint32_t shards) {
  telluride::config cfg;
  cfg.routes = prefixed_routes(prefix);
  cfg.state = mode;
  cfg.state_stream = prefix + "telluride_state";
  cfg.shards = shards;
  return cfg;
}

amqp::topology_spec topology_of(const telluride::config& cfg) {
  amqp::topology_spec spec = telluride::broker_topology(cfg);
  if (cfg.state != telluride::state_mode::durable)
    return spec;
  // What a durable daemon declares besides, on its own: the snapshot index (its exchange, the
  // layout record's queue, one entry queue per shard). Declared here the same way, so that the
  // run deletes them too: the benchmark's broker keeps its data between runs.
  amqp::append(spec, telluride::layout_topology(cfg));  // the state stream once more: declaring is idempotent
  for (std::uint32_t shard = 0; shard < cfg.shards; ++shard)
    amqp::append(spec, telluride::snapshot_index_topology(cfg.state_stream, {cfg.shards, shard}));
  return spec;
}

void delete_topology(amqp::connection& admin, const amqp::topology_spec& spec) {
  for (const auto& q : spec.queues)
    (void)amqp::delete_queue(admin, q.name);
  for (const auto& e : spec.exchanges)
    (void)amqp::delete_exchange(admin, e.name);
}

causeway::expected<void> write_daemon_config(const telluride::config& cfg, const daemon_file& file,
                                             const std::string& path) {
  auto json = telluride::to_json(telluride::config{}, telluride::secrets::shown);  // every default
  json["state"] = cfg.state == telluride::state_mode::durable ? "durable" : "memory";
  json["state_stream"] = cfg.state_stream;
  json["shards"] = cfg.shards;
  json["amqp_url"] = file.url;
  json["http_listen"] = "127.0.0.1:" + std::to_string(file.http_port);
  json["http_token"] = file.token;
  auto names = nlohmann::json::object();
  for (const auto& route : telluride::route_options())
    names[std::string{route.key}] = cfg.routes.*route.field;
  json["routes"] = names;
  for (const auto& [key, value] : file.overrides.items())
    json[key] = value;
  std::ofstream{path} << json.dump(2) << '\n';
  if (auto loaded = telluride::load_config_file(path); !loaded)
    return causeway::error{"the benchmark wrote a bad daemon config: " + loaded.err().message};
  return {};
}

} // namespace daemon_bench
