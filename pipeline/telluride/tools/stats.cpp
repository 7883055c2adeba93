// `telluride stats` (README.md, The program): the running daemons' statistics, read from shared
// memory without talking to them (see stats/shared_stats.hpp). One JSON object per daemon per
// line.
#include "telluride/cli/commands.hpp"
#include "telluride/domain/config_schema.hpp"
#include "telluride/domain/timestamp.hpp"
#include "telluride/stats/shared_stats.hpp"
#include "telluride/tools/tool_support.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace telluride::tools {

namespace {

struct stats_flags {
  bool pretty = false;
};

nlohmann::ordered_json to_json(const shared_stats_record& r) {
  auto iso = [](std::int64_t ms) -> nlohmann::ordered_json {
    if (auto text = iso8601_from_epoch_ms(ms))
      return *text;
    return nullptr;
  };
  return nlohmann::ordered_json{
    {"pid", r.pid},
    {"started", iso(r.started_ms)},
    {"updated", iso(r.updated_ms)},
    {"ready", r.ready != 0},
    {"config_version", r.config_version},
    {"consumed", r.consumed},
    {"successful", r.successful},
    {"failed", r.failed},
    {"duplicates", r.duplicates},
    {"in_flight", r.in_flight},
    {"sensors", r.sensors},
    {"alerts", r.alerts},
    {"reconnects", r.reconnects},
    {"messages_per_second", r.messages_per_second},
    // Masked by the daemon already; masked again in case another writer did not.
    {"amqp_url", mask_password(r.amqp_url)},
    {"http_listen", std::string(r.http_listen)},
  };
}

int run_stats(const stats_flags& flags) {
  const auto records = read_shared_stats();
  if (records.empty()) {
    report_error("stats", "no running telluride daemon");
    return exit_code::failure;
  }
  for (const auto& record : records)
    std::printf("%s\n", to_json(record).dump(flags.pretty ? 2 : -1).c_str());
  std::fflush(stdout);
  return exit_code::ok;
}

} // namespace

} // namespace telluride::tools

namespace telluride::cli {

void add_stats_command(CLI::App& app, command_runner& run) {
  auto flags = std::make_shared<tools::stats_flags>();
  auto* cmd = app.add_subcommand(
    "stats",
    "Print each running daemon's statistics (one JSON object per line), read from shared memory "
    "(/dev/shm/telluride-<pid>) without talking to the daemon. Exit code 1 when none runs.");
  cmd->add_flag("--pretty", flags->pretty, "Indent each JSON object");
  cmd->callback([&run, flags] { run = [flags] { return tools::run_stats(*flags); }; });
}

} // namespace telluride::cli
