// telluride — the sensor pipeline daemon and its tools (README.md, The program).
#include "telluride/cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  // Logs go to stderr, every library's included: stdout carries data (`tail`, `stats`).
  spdlog::set_default_logger(spdlog::stderr_color_mt("telluride"));
  CLI::App app{"Telluride: IoT sensor pipeline on RabbitMQ, built on Causeway"};
  app.require_subcommand(1);
  app.fallthrough(false);
  telluride::cli::command_runner run;
  telluride::cli::add_pipeline_command(app, run);
  telluride::cli::add_sensors_command(app, run);
  telluride::cli::add_config_command(app, run);
  telluride::cli::add_tail_command(app, run);
  telluride::cli::add_stats_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "telluride: %s (see telluride --help)\n", e.what());
    return 2;
  }
  try {
    return run ? run() : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "telluride: %s\n", e.what());
    return 1;
  }
}
