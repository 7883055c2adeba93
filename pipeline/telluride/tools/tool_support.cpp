#include "telluride/tools/tool_support.hpp"

#include "telluride/cli/commands.hpp"
#include "telluride/domain/config_schema.hpp"

#include <causeway/amqp/url.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <random>

#include <unistd.h>

namespace telluride::tools {

void add_config_flag(CLI::App& command, std::string& config_path) {
  command.add_option("--config", config_path,
                     "Config file (JSON). Default: " + std::string(default_config_path) +
                       " when it exists, else the built-in defaults")
    ->type_name("FILE");
}

void add_broker_flags(CLI::App& command, broker_flags& flags) {
  add_config_flag(command, flags.config_path);
  command.add_option("--amqp", flags.amqp_url,
                     "Broker URL amqp://user:pass@host:port/vhost, or amqps://...?cacertfile=FILE for TLS. Default: $TELLURIDE_AMQP_URL, "
                     "else the config file's amqp_url (amqp://guest:guest@127.0.0.1:5672/%2f)")
    ->type_name("URL");
}

namespace {

std::string shown_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.12g", value);
  return text;
}

} // namespace

CLI::Validator integer_in(std::uint64_t min, std::uint64_t max) {
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  return CLI::Validator(
    [min, max, range](std::string& text) -> std::string {
      std::uint64_t value = 0;
      const char* end = text.data() + text.size();
      const auto [stop, status] = std::from_chars(text.data(), end, value);
      if (text.empty() || status != std::errc{} || stop != end || value < min || value > max)
        return "must be an integer in " + range + ", got " + text;
      return {};
    },
    "");
}

CLI::Validator number_in(double min, double max) {
  const std::string range = shown_number(min) + ".." + shown_number(max);
  return CLI::Validator(
    [min, max, range](std::string& text) -> std::string {
      double value = 0;
      const char* end = text.data() + text.size();
      const auto [stop, status] = std::from_chars(text.data(), end, value);
      if (text.empty() || status != std::errc{} || stop != end || !(value >= min && value <= max))
        return "must be a number in " + range + ", got " + text;
      return {};
    },
    "");
}

void report_error(std::string_view tool, std::string_view message) {
  std::string line(message);
  for (char& c : line)
    if (c == '\n' || c == '\r')
      c = ' ';
  std::fprintf(stderr, "telluride %.*s: %s\n", static_cast<int>(tool.size()), tool.data(), line.c_str());
  std::fflush(stderr);
}

expected<config> load_tool_config(const std::string& path) {
  if (!path.empty())
    return load_config_file(path);
  std::error_code ignored;
  if (!std::filesystem::exists(default_config_path, ignored))
    return config{};
  return load_config_file(default_config_path);
}

std::optional<broker_target> resolve_broker_target(std::string_view tool, const broker_flags& flags) {
  auto cfg = load_tool_config(flags.config_path);
  if (!cfg) {
    report_error(tool, cfg.err().message);
    return std::nullopt;
  }
  broker_target target;
  target.config = std::move(*cfg);
  target.url = cli::amqp_url(flags.amqp_url, target.config.amqp_url);
  auto parsed = causeway::amqp::parse_url(target.url);
  if (!parsed) {
    // parse_url's errors never show the password.
    report_error(tool, parsed.err().message);
    return std::nullopt;
  }
  target.masked_url = parsed->masked();
  return target;
}

causeway::amqp::connection_options tool_connection(const broker_target& target, std::string_view tool) {
  causeway::amqp::connection_options options;
  options.url = target.url;
  options.name = "telluride-" + std::string(tool) + "-" + std::to_string(::getpid());
  std::replace(options.name.begin(), options.name.end(), ' ', '-');
  options.connect_timeout = std::chrono::seconds(5);
  options.rpc_timeout = std::chrono::seconds(10);
  // Tools are short-lived and interactive: retry a lost broker often rather than up to 30 s apart.
  options.reconnect.max = std::chrono::seconds(5);
  return options;
}

void init_tool_logging(std::string_view tool) {
  auto logger = std::make_shared<spdlog::logger>("telluride " + std::string(tool),
                                                  std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("telluride " + std::string(tool) + ": %l: %v");
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

std::uint64_t random_u64() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::string random_hex_id() {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(random_u64()));
  return text;
}

} // namespace telluride::tools
