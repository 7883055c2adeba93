// `telluride config set KEY=VALUE...` (docs/wire-format.md, Control protocol and replies) and
// `telluride config show`.
//
// `set` validates the change with the daemon's own validator before anything is sent, then
// publishes one reconfiguration message (persistent, confirmed) to the control route. With
// --wait it listens on the pipeline-events route — through a private queue bound before
// publishing — for the daemon's answer (see config_event_match.hpp) and prints it.
#include "telluride/cli/commands.hpp"
#include "telluride/domain/config_schema.hpp"
#include "telluride/tools/config_event_match.hpp"
#include "telluride/tools/queue_tap.hpp"
#include "telluride/tools/route_table.hpp"
#include "telluride/tools/stop_signal.hpp"
#include "telluride/tools/tool_support.hpp"

#include <causeway/amqp/publisher.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>

namespace telluride::tools {

namespace {

using namespace std::chrono_literals;
namespace amqp = causeway::amqp;

constexpr std::string_view config_set_tool = "config set";

struct config_set_flags {
  broker_flags broker;
  std::vector<std::string> assignments;
  double wait = 0;  // seconds; 0: do not wait for the daemon's answer
};

struct config_show_flags {
  broker_flags broker;
};

std::string reconfiguration_keys() {
  std::string out;
  for (const auto& spec : config_options())
    if (spec.is_reconfigurable)
      out += (out.empty() ? "" : ", ") + std::string(spec.key);
  return out;
}

int wait_for_answer(queue_tap& events, const nlohmann::json& change, const std::string& correlation_id,
                    double wait_seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(wait_seconds));
  while (!stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      break;
    auto slice = std::min<std::chrono::steady_clock::duration>(deadline - now, 100ms);
    auto messages = events.take(std::chrono::duration_cast<std::chrono::milliseconds>(slice) + 1ms);
    config_outcome outcome = config_outcome::unrelated;
    std::string answer;
    for (const auto& msg : messages) {
      auto event = nlohmann::ordered_json::parse(msg.data, nullptr, false);
      if (event.is_discarded())
        continue;
      outcome = match_config_event(nlohmann::json(event), correlation_id, change);
      if (outcome != config_outcome::unrelated) {
        answer = event.dump();
        break;
      }
    }
    events.acknowledge(messages);
    if (outcome != config_outcome::unrelated) {
      std::printf("%s\n", answer.c_str());
      std::fflush(stdout);
      return outcome == config_outcome::applied ? exit_code::ok : exit_code::failure;
    }
  }
  if (stop_requested())
    return exit_code::interrupted;
  char text[128];
  std::snprintf(text, sizeof text, "no config_applied or config_rejected event within %g s (is the daemon running?)",
                wait_seconds);
  report_error(config_set_tool, text);
  return exit_code::timeout;
}

int run_config_set(const config_set_flags& flags) {
  install_stop_signals();
  init_tool_logging(config_set_tool);
  // A change the validator refuses is rejected here exactly as the daemon would reject it:
  // exit 1, as for a config_rejected answer; nothing is sent.
  auto change = parse_key_values(flags.assignments);
  if (!change) {
    report_error(config_set_tool, change.err().message);
    return exit_code::failure;
  }
  if (auto valid = validate_reconfiguration(*change); !valid) {
    report_error(config_set_tool, valid.err().message);
    return exit_code::failure;
  }
  auto target = resolve_broker_target(config_set_tool, flags.broker);
  if (!target)
    return exit_code::usage;
  const auto& routes = target->config.routes;
  const auto control = find_route(routes, "control");
  const auto events_route = find_route(routes, "events");

  amqp::publisher_options options;
  options.connection = tool_connection(*target, config_set_tool);
  auto pub = amqp::publisher::open(options);
  if (!pub) {
    report_error(config_set_tool, pub.err().message);
    return exit_code::failure;
  }
  if (auto declared = ensure_input_route(*(*pub)->connection(), routes, *control); !declared) {
    report_error(config_set_tool, declared.err().message);
    return exit_code::failure;
  }
  // Listen before publishing, so the answer cannot come before we look.
  std::unique_ptr<queue_tap> events;
  if (flags.wait > 0) {
    tap_options tap;
    tap.connection = tool_connection(*target, "config-set-wait");
    tap.exchange = events_route->exchange;
    tap.routing_key = events_route->routing_key;
    auto opened = queue_tap::open(std::move(tap));
    if (!opened) {
      report_error(config_set_tool, opened.err().message);
      return exit_code::failure;
    }
    events = std::move(*opened);
  }

  const std::string correlation_id = "config-" + random_hex_id();
  amqp::message_properties props;
  props.content_type = "application/json";
  props.message_id = correlation_id;
  props.correlation_id = correlation_id;
  props.persistent = true;
  const std::string body = change->dump();
  auto confirmed = (*pub)->publish_async({control->exchange, control->routing_key, body, props});
  if (confirmed.wait_for(15s) != std::future_status::ready) {
    report_error(config_set_tool, "the broker did not confirm the reconfiguration message within 15 s");
    return exit_code::failure;
  }
  if (auto outcome = confirmed.get(); outcome != amqp::publish_outcome::confirmed) {
    report_error(config_set_tool, outcome == amqp::publish_outcome::nacked ? "the broker refused (nacked) the reconfiguration message"
                                                                : "the reconfiguration message was not published");
    return exit_code::failure;
  }
  if (!events) {
    std::fprintf(stderr, "telluride config set: sent %s to exchange \"%s\" key \"%s\" (correlation_id %s)\n",
                 body.c_str(), control->exchange.c_str(), control->routing_key.c_str(), correlation_id.c_str());
    return exit_code::ok;
  }
  return wait_for_answer(*events, *change, correlation_id, flags.wait);
}

int run_config_show(const config_show_flags& flags) {
  auto target = resolve_broker_target("config show", flags.broker);
  if (!target)
    return exit_code::usage;
  target->config.amqp_url = target->url;
  auto shown = to_json(target->config, secrets::masked);
  std::printf("%s\n", shown.dump(2).c_str());
  return exit_code::ok;
}

} // namespace

} // namespace telluride::tools

namespace telluride::cli {

void add_config_command(CLI::App& app, command_runner& run) {
  auto* config = app.add_subcommand("config", "Change or show the running daemon's configuration");
  config->require_subcommand(1);

  auto set_flags = std::make_shared<tools::config_set_flags>();
  auto* set = config->add_subcommand(
    "set",
    "Validate KEY=VALUE changes locally (the daemon's validator) and publish them as one reconfiguration "
    "message to the control route. Exit codes: 0 sent (or applied with --wait), 1 rejected (by the local "
    "validator, before anything is sent, or by the daemon) or broker failure, 2 bad flag, 3 no answer within --wait.");
  set->add_option("assignments", set_flags->assignments,
                  "KEY=VALUE... with KEY one of: " + tools::reconfiguration_keys())
    ->required()
    ->type_name("KEY=VALUE");
  tools::add_broker_flags(*set, set_flags->broker);
  set->add_option("--wait", set_flags->wait,
                  "Wait up to this many seconds for the daemon's config_applied / config_rejected event and "
                  "print it as one JSON line (matched by correlation_id, else by content)")
    ->type_name("S")
    ->check(tools::number_in(0.001, 86400));
  set->callback([&run, set_flags] { run = [set_flags] { return tools::run_config_set(*set_flags); }; });

  auto show_flags = std::make_shared<tools::config_show_flags>();
  auto* show = config->add_subcommand(
    "show", "Print the configuration the tools and the daemon would use (config file, flags, environment), "
            "secrets masked");
  tools::add_broker_flags(*show, show_flags->broker);
  show->callback([&run, show_flags] { run = [show_flags] { return tools::run_config_show(*show_flags); }; });
}

} // namespace telluride::cli
