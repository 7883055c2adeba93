// daemon_setup.hpp — how the daemon benchmarks (bench_daemon, bench_shards) set up a daemon of
// their own: every route under a prefix, a state stream of its own, its topology declared
// with the daemon's own code, and its config file.
#pragma once

#include "telluride/domain/config.hpp"

#include <causeway/amqp/connection.hpp>
#include <causeway/amqp/topology_declaration.hpp>
#include <causeway/expected.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace daemon_bench {

/// Every route name (docs/wire-format.md, Routes) with `prefix` in front: runs never share a
/// queue or exchange.
telluride::route_names prefixed_routes(const std::string& prefix);

/// The daemon's default config with every route under `prefix`, in `mode`, with a state stream
/// of its own, over `shards` shards.
telluride::config config_under(const std::string& prefix, telluride::state_mode mode, std::uint32_t shards = 1);

/// The broker objects a daemon with `cfg` declares (telluride::broker_topology).
causeway::amqp::topology_spec topology_of(const telluride::config& cfg);

/// Deletes the queues and exchanges of `spec` (what is already gone is no error).
void delete_topology(causeway::amqp::connection& admin, const causeway::amqp::topology_spec& spec);

/// What a benchmark's daemon config holds beyond `cfg`'s routes, state, stream and shards.
struct daemon_file {
  std::string url;
  std::uint16_t http_port = 0;
  std::string token;
  nlohmann::json overrides = nlohmann::json::object();  ///< other keys (experiments)
};

/// Writes the daemon's config file to `path` (every default, then `cfg`'s and `file`'s keys) and
/// reads it back as the daemon will; an error when the daemon would refuse it.
causeway::expected<void> write_daemon_config(const telluride::config& cfg, const daemon_file& file,
                                             const std::string& path);

} // namespace daemon_bench
