// daemon.hpp — `telluride pipeline`: the daemon's life cycle.
//
// Start: read the config file (flags override it), declare the broker routes (wire-format.md)
// (retrying an unreachable broker with backoff up to connect_timeout), open the publishing
// and consuming connections, start the readings pipeline, the config actor, the reporter and
// the HTTP server. Run until SIGTERM or SIGINT. Stop: stop taking reconfigurations, drain the
// readings pipeline (everything taken is processed and acknowledged), publish the last
// aggregates and metrics, wait for their confirms, close, exit 0. A second signal exits at
// once with a non-zero code.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace telluride {

struct daemon_options {
  std::optional<std::string> config_path;  ///< --config; default config/telluride.json if present
  std::string amqp_url;                    ///< --amqp; empty: TELLURIDE_AMQP_URL, then the file
  std::string http_listen;                 ///< --http; empty: the file's http_listen
  std::optional<std::int64_t> max_sensors; ///< --max-sensors; none: the file's max_sensors
  /// Config keys given as flags (--node, --shards, --state...): key and text as typed, in
  /// command-line order; checked like the file's keys (config_schema.hpp, parse_flag_value).
  std::vector<std::pair<std::string, std::string>> config_flags;
  std::chrono::milliseconds connect_timeout{10'000};
};

/// Runs the daemon; returns the process exit code.
int run_daemon(const daemon_options& options);

} // namespace telluride
