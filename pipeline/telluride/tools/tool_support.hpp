// tool_support.hpp — what every `telluride` tool shares: config, broker address, errors, logs.
//
// Tools (sensors, config, tail, stats) end with an exit code and, on failure, one line on
// stderr: `telluride <tool>: <what went wrong>`. Exit codes: 0 success, 1 a runtime failure
// (broker unreachable, messages not confirmed, a rejected reconfiguration), 2 a usage error
// (bad flag, bad value, bad config file, bad URL), 3 a timeout the user asked for (--wait,
// --timeout), 130 interrupted (SIGINT) where stopping early is not a normal end.
#pragma once

#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/amqp/connection.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class App;
class Validator;
}

namespace telluride::tools {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;
inline constexpr int usage = 2;
inline constexpr int timeout = 3;
inline constexpr int interrupted = 130;
} // namespace exit_code

/// The config file every tool reads when --config is not given. Missing, it means the
/// built-in defaults; a missing file given explicitly is an error.
inline constexpr std::string_view default_config_path = "config/telluride.json";

/// The --config and --amqp flags of a broker-using tool.
struct broker_flags {
  std::string config_path;  ///< empty: default_config_path if it exists
  std::string amqp_url;     ///< empty: TELLURIDE_AMQP_URL, else the config's amqp_url
};

/// Adds --config FILE and --amqp URL to `command`.
void add_broker_flags(CLI::App& command, broker_flags& flags);
/// Adds --config FILE only (tools that read the config but never talk to the broker).
void add_config_flag(CLI::App& command, std::string& config_path);

/// CLI11 checks with one-line errors in the config validator's words:
/// `--count: must be an integer in 1..1000000, got 0`. Integers are plain decimal digits (no
/// sign, so a negative value is refused instead of wrapping around).
CLI::Validator integer_in(std::uint64_t min, std::uint64_t max);
CLI::Validator number_in(double min, double max);

/// Prints `telluride <tool>: <message>` on stderr as one line (newlines become spaces).
void report_error(std::string_view tool, std::string_view message);

/// The config of `path` (see default_config_path), or the one-line reason it is unusable.
expected<config> load_tool_config(const std::string& path);

/// What a broker-using tool needs once its flags are checked.
struct broker_target {
  telluride::config config;
  std::string url;  ///< unmasked: never print it, print `masked_url`
  std::string masked_url;
};

/// Loads the config, resolves the AMQP URL (flag, TELLURIDE_AMQP_URL, config file) and checks
/// its syntax. On failure reports the problem as `tool` and returns nothing (exit code 2).
std::optional<broker_target> resolve_broker_target(std::string_view tool, const broker_flags& flags);

/// Connection options for a tool: named `telluride-<tool>-<pid>` so the management UI and
/// `rabbitmqctl list_connections` tell tools apart; reconnects at most 5 s apart.
causeway::amqp::connection_options tool_connection(const broker_target& target, std::string_view tool);

/// Sends the framework's logs to stderr, as `telluride <tool>: <level>: <text>`, warnings and
/// errors only: a tool's stdout is its output, and info lines would be noise.
void init_tool_logging(std::string_view tool);

/// A random 64-bit value from the system's entropy source (run ids, correlation ids).
std::uint64_t random_u64();
/// `random_u64()` as 16 hex digits.
std::string random_hex_id();

} // namespace telluride::tools
