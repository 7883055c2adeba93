// The `pipeline` subcommand: flags → daemon_options → run_daemon.
#include "telluride/cli/commands.hpp"
#include "telluride/daemon/daemon.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace telluride::cli {

void add_pipeline_command(CLI::App& app, command_runner& run) {
  auto* cmd = app.add_subcommand("pipeline", "Run the daemon: consume readings, publish aggregates, "
                                             "metrics, throughput and events; serve HTTP");
  auto options = std::make_shared<daemon_options>();
  auto config_path = std::make_shared<std::string>();
  auto timeout_s = std::make_shared<double>(10.0);
  cmd->add_option("--config", *config_path, "Config file (JSON); default config/telluride.json when present")
    ->check(CLI::ExistingFile);
  cmd->add_option("--amqp", options->amqp_url,
                  "Broker URL amqp://user:pass@host:port/vhost, or amqps://...?cacertfile=FILE for TLS (default: TELLURIDE_AMQP_URL, then the config file)");
  cmd->add_option("--http", options->http_listen, "HTTP listen address HOST:PORT (default 127.0.0.1:9464)");
  cmd->add_option("--max-sensors", options->max_sensors,
                  "Sensors tracked at most; readings of new sensors beyond it are dead-lettered "
                  "(default: the config file's max_sensors; 0 sizes it from memory)");
  // Config keys of CONTRACT §7 as flags: their text goes to the config validator, so a bad
  // value gets the same one-line error as in the file.
  auto flag_texts = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
  struct key_flag {
    const char* key;
    const char* flag;
    const char* type;
    const char* help;
  };
  const key_flag key_flags[] = {
    {"node_name", "--node", "NAME", "This daemon's name among those sharing the shards (default: HOSTNAME-PID)"},
    {"shards", "--shards", "N", "Readings queues the readings are spread over by sensor, 1..1024 (default 1)"},
    {"state", "--state", "MODE", "durable (checkpointed to the state stream, the default) or memory"},
    {"state_stream", "--state-stream", "NAME", "The stream of the shards' checkpoints (default telluride_state)"},
    {"checkpoint_interval_ms", "--checkpoint-interval-ms", "N", "Milliseconds between checkpoints, 1..60000 (default 100)"},
  };
  for (const auto& [key, flag, type, help] : key_flags) {
    cmd->add_option_function<std::string>(
         flag, [flag_texts, key = std::string(key)](const std::string& text) { flag_texts->emplace_back(key, text); },
         std::string(help) + "; overrides the config file's " + key)
      ->type_name(type);
  }
  cmd->add_option("--connect-timeout", *timeout_s, "Seconds to keep retrying an unreachable broker at start")
    ->check(CLI::Range(0.0, 3600.0));
  cmd->callback([&run, options, config_path, timeout_s, flag_texts] {
    options->config_flags = *flag_texts;
    if (!config_path->empty())
      options->config_path = *config_path;
    options->connect_timeout = std::chrono::milliseconds(static_cast<long long>(*timeout_s * 1000));
    run = [options] { return run_daemon(*options); };
  });
}

} // namespace telluride::cli
