// commands.hpp — the subcommands of the `telluride` program.
//
// Each subcommand registers itself on the CLI11 app: its flags, its help, and what runs when
// it is chosen (`run` is set by the subcommand's callback and returns the exit code). Every
// flag has a long form; bad flags end the program with one line and exit code 2 (CLI11's
// parse errors are printed as one line by main).
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace telluride::cli {

using command_runner = std::function<int()>;

void add_pipeline_command(CLI::App& app, command_runner& run);  ///< daemon/ (the daemon)
void add_sensors_command(CLI::App& app, command_runner& run);   ///< tools/sensors
void add_config_command(CLI::App& app, command_runner& run);    ///< tools/config_set
void add_tail_command(CLI::App& app, command_runner& run);      ///< tools/tail
void add_stats_command(CLI::App& app, command_runner& run);     ///< tools/stats

/// The AMQP URL: the flag when given, else TELLURIDE_AMQP_URL, else `fallback` (the config
/// file's amqp_url, whose default is amqp://guest:guest@127.0.0.1:5672/%2f).
std::string amqp_url(const std::string& flag, const std::string& fallback);

} // namespace telluride::cli
