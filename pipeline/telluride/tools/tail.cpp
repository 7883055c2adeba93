// `telluride tail ROUTE` (README.md, The program): print what the daemon publishes, one JSON
// per line.
//
// By default a private queue (exclusive, auto-deleted with the connection) is bound to the
// route's exchange and routing key: tail sees a copy of each message from the moment it
// started and takes nothing from the durable queue dashboards read. --from-queue consumes the
// durable queue itself, acking each message once printed. Output is flushed per line; when the
// reader goes away (`| head -1`: EPIPE, or the pipe's reader closed) tail ends quietly with
// exit code 0.
#include "telluride/cli/commands.hpp"
#include "telluride/tools/queue_tap.hpp"
#include "telluride/tools/route_table.hpp"
#include "telluride/tools/stop_signal.hpp"
#include "telluride/tools/tool_support.hpp"

#include <CLI/CLI.hpp>
#include <poll.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>

namespace telluride::tools {

namespace {

using namespace std::chrono_literals;

constexpr std::string_view tail_tool = "tail";

struct tail_flags {
  broker_flags broker;
  std::string route;
  std::uint64_t count = 0;  // 0: until stopped
  bool pretty = false;
  bool from_queue = false;
  double timeout = 0;       // 0: no timeout
};

// One line per message: the body re-encoded compactly (or indented), keys in their order; a
// body that is not JSON is printed as a JSON string so every line stays JSON.
std::string render(const std::string& body, bool pretty) {
  auto value = nlohmann::ordered_json::parse(body, nullptr, false);
  if (value.is_discarded())
    value = body;
  return value.dump(pretty ? 2 : -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// True when stdout is a pipe whose reader has gone (`| head -1` after its line): tail ends
// then, not only at its next write, which might come much later.
bool is_reader_gone() {
  pollfd out{STDOUT_FILENO, 0, 0};
  return ::poll(&out, 1, 0) == 1 && (out.revents & POLLERR) != 0;
}

// False when stdout is gone (EPIPE): the reader is done.
bool print_line(const std::string& line) {
  if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fputc('\n', stdout) == EOF ||
      std::fflush(stdout) != 0)
    return false;
  return true;
}

int run_tail(const tail_flags& flags) {
  install_stop_signals();
  init_tool_logging(tail_tool);
  auto target = resolve_broker_target(tail_tool, flags.broker);
  if (!target)
    return exit_code::usage;
  const auto selected = find_route(target->config.routes, flags.route);
  if (!selected) {
    report_error(tail_tool, "unknown route \"" + flags.route + "\"; valid routes: " + tail_route_list());
    return exit_code::usage;
  }
  tap_options tap;
  tap.connection = tool_connection(*target, tail_tool);
  if (flags.from_queue) {
    tap.queue = selected->queue;
    // Never take more than asked for: the rest would come back redelivered.
    tap.prefetch_count = static_cast<std::uint16_t>(flags.count == 0 ? 100 : std::min<std::uint64_t>(flags.count, 100));
  } else {
    tap.exchange = selected->exchange;
    tap.routing_key = selected->routing_key;
  }
  auto opened = queue_tap::open(std::move(tap));
  if (!opened) {
    report_error(tail_tool, opened.err().message);
    return exit_code::failure;
  }
  auto& source = **opened;
  const auto deadline = flags.timeout > 0
                          ? std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(flags.timeout))
                          : std::chrono::steady_clock::time_point::max();
  std::uint64_t printed = 0;
  while (!stop_requested() && !is_reader_gone()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      if (flags.count == 0)
        return exit_code::ok;
      report_error(tail_tool, "timed out after " + std::to_string(printed) + " of " + std::to_string(flags.count) +
                           " message(s)");
      return exit_code::timeout;
    }
    auto messages = source.take(100ms);
    std::vector<causeway::message> done;
    bool is_finished = false;
    bool is_closed = false;
    for (auto& msg : messages) {
      if (is_finished) {
        break;  // not printed, not acked: returns to its queue
      }
      if (!print_line(render(msg.data, flags.pretty))) {
        is_closed = true;
        break;
      }
      done.push_back(std::move(msg));
      is_finished = flags.count != 0 && ++printed >= flags.count;
    }
    source.acknowledge(done);
    if (is_closed || is_finished)
      return exit_code::ok;
  }
  return exit_code::ok;
}

} // namespace

} // namespace telluride::tools

namespace telluride::cli {

void add_tail_command(CLI::App& app, command_runner& run) {
  auto flags = std::make_shared<tools::tail_flags>();
  auto* cmd = app.add_subcommand(
    "tail",
    "Print the messages of an output route, one JSON object per line. By default through a private "
    "queue bound to the route (the durable queue is left alone); Ctrl-C or --count ends it.");
  cmd->add_option("route", flags->route, "Route: " + tools::tail_route_list())->required()->type_name("ROUTE");
  tools::add_broker_flags(*cmd, flags->broker);
  cmd->add_option("--count", flags->count, "Exit 0 after this many messages")
    ->type_name("N")
    ->check(tools::integer_in(1, 1000000000000000));
  cmd->add_flag("--pretty", flags->pretty, "Indent each JSON object (one object per line otherwise)");
  cmd->add_flag("--from-queue", flags->from_queue,
                "Consume (and ack) the route's durable queue instead of a private copy: takes the "
                "messages away from other readers of that queue");
  cmd->add_option("--timeout", flags->timeout,
                  "Stop after this many seconds; with --count, fewer messages by then is exit code 3 (default: no limit)")
    ->type_name("S")
    ->check(tools::number_in(0.001, 1e9));
  cmd->callback([&run, flags] { run = [flags] { return tools::run_tail(*flags); }; });
}

} // namespace telluride::cli
