// `telluride sensors`: simulated sensors publishing readings (docs/wire-format.md, Reading).
//
// The main thread runs a ~1 ms tick: it asks a token bucket how many readings may go now,
// picks the sensors round-robin among the active ones and hands the readings to a confirming
// publisher (whose connection thread sends them, at most `--confirm-window` unconfirmed on the
// wire). Readings waiting in the publisher are capped too, so a slow broker slows the
// simulator instead of filling its memory; the rate then is the broker's limit.
#include "telluride/cli/commands.hpp"
#include "telluride/domain/sensor_key.hpp"
#include "telluride/tools/progress_line.hpp"
#include "telluride/tools/route_table.hpp"
#include "telluride/tools/sensor_fleet.hpp"
#include "telluride/tools/stop_signal.hpp"
#include "telluride/tools/token_bucket.hpp"
#include "telluride/tools/tool_support.hpp"

#include <causeway/amqp/publisher.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <thread>

namespace telluride::tools {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
namespace amqp = causeway::amqp;

constexpr std::string_view sensors_tool = "sensors";

struct sensors_flags {
  broker_flags broker;
  std::size_t count = 0;
  double rate = 0;
  double duration = 0;       // 0: until --messages or a signal
  std::uint64_t messages = 0;  // 0: no limit
  std::optional<std::uint64_t> seed;
  std::size_t ramp_batches = 1;
  double ramp_interval = 1;
  std::vector<std::string> types;
  double hot_share = 0.01;
  std::size_t confirm_window = 1000;
  double confirm_timeout = 60;
  bool quiet = false;
  bool json = false;
};

double seconds_between(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::int64_t now_epoch_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Sensors active after `batches` of `total` ramp batches (the first batch starts at once).
std::size_t active_after(std::size_t count, std::size_t batches, std::size_t total) {
  return std::max<std::size_t>(1, (count * batches + total - 1) / total);
}

class simulator {
public:
  simulator(const sensors_flags& flags, sensor_fleet fleet, std::shared_ptr<amqp::publisher> pub, route target)
    : flags_(flags), fleet_(std::move(fleet)), pub_(std::move(pub)), route_(std::move(target)),
      run_id_(random_hex_id().substr(0, 12)) {}

  int run(std::uint64_t seed) {
    start_ = clock::now();
    progress_line progress(!flags_.quiet, "telluride sensors: ", start_);
    if (!flags_.quiet)
      std::fprintf(stderr, "telluride sensors: %zu sensors (seed %llu) publishing %g readings/s to exchange \"%s\" key \"%s\"%s\n",
                   fleet_.size(), static_cast<unsigned long long>(seed), flags_.rate, route_.exchange.c_str(),
                   route_.routing_key.c_str(), flags_.ramp_batches > 1 ? ", ramping up in batches" : "");
    publish_until_done(progress);
    const auto publishing_ended = clock::now();
    const bool was_interrupted = stop_requested() && flags_.messages != 0 && sent_ < flags_.messages;
    const bool is_settled = await_confirms(progress, publishing_ended);
    progress.finish();
    return report(seed, publishing_ended, is_settled, was_interrupted);
  }

private:
  // Publishes until --messages, --duration or a stop signal, holding the rate.
  void publish_until_done(progress_line& progress) {
    std::size_t batches = 1;
    active_ = active_after(fleet_.size(), batches, flags_.ramp_batches);
    auto next_batch_at = start_ + to_duration(flags_.ramp_interval);
    const auto end = flags_.duration > 0 ? start_ + to_duration(flags_.duration) : clock::time_point::max();
    token_bucket bucket(rate_for(active_), std::max(1.0, flags_.rate * 0.05), start_);
    // Readings handed to the publisher and not settled yet: the window on the wire plus
    // enough queued behind it that the connection thread never waits for this thread.
    const std::uint64_t max_outstanding =
      flags_.confirm_window + std::max<std::uint64_t>(flags_.confirm_window, static_cast<std::uint64_t>(flags_.rate / 20));
    auto last_sample = start_;
    std::uint64_t last_sent = 0;
    for (;;) {
      const auto now = clock::now();
      if (stop_requested() || now >= end || (flags_.messages != 0 && sent_ >= flags_.messages))
        return;
      while (batches < flags_.ramp_batches && now >= next_batch_at) {
        ++batches;
        active_ = active_after(fleet_.size(), batches, flags_.ramp_batches);
        bucket.set_rate(rate_for(active_), now);
        next_batch_at += to_duration(flags_.ramp_interval);
      }
      const auto stats = pub_->stats();
      const std::uint64_t room = stats.outstanding >= max_outstanding ? 0 : max_outstanding - stats.outstanding;
      const std::uint64_t wanted = flags_.messages != 0 ? std::min(room, flags_.messages - sent_) : room;
      const std::uint64_t n = bucket.take(now, wanted);
      for (std::uint64_t i = 0; i < n; ++i)
        publish_one();

      if (progress.is_due(now)) {
        const double span = seconds_between(last_sample, now);
        const double rate = span > 0 ? static_cast<double>(sent_ - last_sent) / span : 0;
        last_sample = now;
        last_sent = sent_;
        progress.show(progress_text(stats, rate, now), now);
      }
      // Sleep until the next token, but at least ~1 ms: each tick then sends a burst.
      auto pause = room == 0 ? clock::duration(1ms) : bucket.time_to_next_token(now);
      pause = std::clamp<clock::duration>(pause, 1ms, 50ms);
      if (end != clock::time_point::max())
        pause = std::min<clock::duration>(pause, std::max<clock::duration>(end - now, 0ms));
      std::this_thread::sleep_for(pause);
    }
  }

  // Waits until the broker confirmed (or nacked) everything sent; false after
  // --confirm-timeout or a second stop signal.
  bool await_confirms(progress_line& progress, clock::time_point publishing_ended) {
    const auto give_up_at = publishing_ended + to_duration(flags_.confirm_timeout);
    for (;;) {
      if (pub_->wait_confirmed(100ms))
        return true;
      const auto now = clock::now();
      if (now >= give_up_at || stop_signal_count() >= 2)
        return false;
      if (progress.is_due(now))
        progress.show(progress_text(pub_->stats(), 0, now) + "  (waiting for confirms)", now);
    }
  }

  // The summary (stderr; also JSON on stdout with --json) and the exit code.
  int report(std::uint64_t seed, clock::time_point publishing_ended, bool is_settled, bool was_interrupted) {
    const auto stats = pub_->stats();
    const double elapsed = seconds_between(start_, clock::now());
    const double average = elapsed > 0 ? static_cast<double>(stats.confirmed) / elapsed : 0;
    std::fprintf(stderr,
                 "telluride sensors: sent %s, confirmed %s, nacked %s, republished %s in %.2f s: %.0f readings/s "
                 "confirmed on average (publishing %.2f s; seed %llu, run %s)\n",
                 with_thousands(sent_).c_str(), with_thousands(stats.confirmed).c_str(),
                 with_thousands(stats.nacked).c_str(), with_thousands(stats.republished).c_str(), elapsed, average,
                 seconds_between(start_, publishing_ended), static_cast<unsigned long long>(seed), run_id_.c_str());
    if (flags_.json) {
      nlohmann::ordered_json summary{
        {"sent", sent_},     {"confirmed", stats.confirmed}, {"nacked", stats.nacked}, {"republished", stats.republished},
        {"elapsed_s", elapsed}, {"msgs_per_s", average},     {"seed", seed},           {"run_id", run_id_},
        {"sensors", fleet_.size()}};
      std::printf("%s\n", summary.dump().c_str());
      std::fflush(stdout);
    }
    if (!is_settled) {
      report_error(sensors_tool, std::to_string(stats.outstanding) + " reading(s) not confirmed by the broker " +
                           (stop_signal_count() >= 2 ? "(interrupted)" : "within --confirm-timeout"));
      return exit_code::failure;
    }
    if (stats.nacked != 0) {
      report_error(sensors_tool, std::to_string(stats.nacked) + " reading(s) refused (nacked) by the broker");
      return exit_code::failure;
    }
    return was_interrupted ? exit_code::interrupted : exit_code::ok;
  }

  static clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  }

  // Each sensor sends at rate / count readings per second (as each amoc user has its own
  // rate): while ramping up, the total grows with the active sensors.
  double rate_for(std::size_t active) const {
    return flags_.rate * static_cast<double>(active) / static_cast<double>(fleet_.size());
  }

  void publish_one() {
    const std::size_t index = cursor_++ % active_;
    std::string body;
    body.reserve(192);
    fleet_.append_reading(body, index, fleet_.next_value(index), iso8601_from_epoch_us(now_epoch_us()));
    amqp::message_properties props;
    props.content_type = "application/json";
    props.message_id = run_id_;
    props.message_id += '-';
    props.message_id += std::to_string(++sent_);
    props.headers.push_back({std::string(sensor_key_header), fleet_.sensor_key_text(index)});
    props.persistent = true;
    pub_->publish(amqp::outgoing_message{route_.exchange, route_.routing_key, std::move(body), std::move(props)});
  }

  std::string progress_text(const amqp::publisher_stats& stats, double rate, clock::time_point now) const {
    char text[256];
    std::snprintf(text, sizeof text, "sent %s  confirmed %s  nacked %s  rate %s/s  sensors %zu/%zu  %.1f s",
                  with_thousands(sent_).c_str(), with_thousands(stats.confirmed).c_str(),
                  with_thousands(stats.nacked).c_str(), with_thousands(static_cast<std::uint64_t>(rate)).c_str(),
                  active_, fleet_.size(), seconds_between(start_, now));
    return text;
  }

  const sensors_flags& flags_;
  sensor_fleet fleet_;
  std::shared_ptr<amqp::publisher> pub_;
  route route_;
  std::string run_id_;
  clock::time_point start_;
  std::size_t active_ = 1;  // sensors sending now (ramp-up)
  std::uint64_t sent_ = 0;
  std::uint64_t cursor_ = 0;
};

int run_sensors(const sensors_flags& flags) {
  install_stop_signals();
  init_tool_logging(sensors_tool);
  auto target = resolve_broker_target(sensors_tool, flags.broker);
  if (!target)
    return exit_code::usage;
  if (flags.ramp_batches > flags.count) {
    report_error(sensors_tool, "--ramp-batches must be at most --count (" + std::to_string(flags.count) + "), got " +
                         std::to_string(flags.ramp_batches));
    return exit_code::usage;
  }
  const std::uint64_t seed = flags.seed ? *flags.seed : random_u64() % 1000000000ULL;
  fleet_options fleet_opts;
  fleet_opts.count = flags.count;
  fleet_opts.seed = seed;
  fleet_opts.types = flags.types;
  fleet_opts.hot_share = flags.hot_share;
  fleet_opts.thresholds = target->config.alert_thresholds;
  auto fleet = sensor_fleet::create(fleet_opts);
  if (!fleet) {
    report_error(sensors_tool, "--types: " + fleet.err().message);
    return exit_code::usage;
  }
  auto readings = find_route(target->config.routes, "readings");

  amqp::publisher_options options;
  options.connection = tool_connection(*target, sensors_tool);
  options.confirm_window = flags.confirm_window;
  auto pub = amqp::publisher::open(options);
  if (!pub) {
    report_error(sensors_tool, pub.err().message);
    return exit_code::failure;
  }
  if (auto declared = ensure_readings_route(*(*pub)->connection(), target->config); !declared) {
    report_error(sensors_tool, declared.err().message);
    return exit_code::failure;
  }
  simulator sim(flags, std::move(*fleet), *pub, *readings);
  return sim.run(seed);
}

} // namespace

} // namespace telluride::tools

namespace telluride::cli {

void add_sensors_command(CLI::App& app, command_runner& run) {
  auto flags = std::make_shared<tools::sensors_flags>();
  auto* cmd = app.add_subcommand(
    "sensors",
    "Simulated sensors publishing readings (JSON, persistent, confirmed, a unique message_id each, the header "
    "sensor_key = line_id/device_id/sensor_id) to the readings route. Each sensor has a type and its own normal distribution; --seed reproduces them.");
  tools::add_broker_flags(*cmd, flags->broker);
  cmd->add_option("--count", flags->count, "Number of simulated sensors (1..1000000)")
    ->required()
    ->type_name("N")
    ->check(tools::integer_in(1, 1000000));
  cmd->add_option("--rate", flags->rate, "Readings per second, all sensors together (0.001..10000000)")
    ->required()
    ->type_name("R")
    ->check(tools::number_in(0.001, 1e7));
  cmd->add_option("--duration", flags->duration, "Stop after this many seconds (default: run until stopped)")
    ->type_name("S")
    ->check(tools::number_in(0.001, 1e9));
  cmd->add_option("--messages", flags->messages,
                  "Publish exactly this many readings, then exit 0 once the broker confirmed all of them")
    ->type_name("M")
    ->check(tools::integer_in(1, 1000000000000000));
  cmd->add_option("--seed", flags->seed,
                  "Seed of the sensors and their values: the same seed gives the same sensors, ids and "
                  "values (default: random, printed at start)")
    ->check(tools::integer_in(0, std::numeric_limits<std::uint64_t>::max()))
    ->type_name("K");
  cmd->add_option("--ramp-batches", flags->ramp_batches,
                  "Start the sensors in this many batches, one batch every --ramp-interval seconds; each "
                  "sensor sends rate/count readings per second (default 1: all at once)")
    ->type_name("K")
    ->check(tools::integer_in(1, 1000000));
  cmd->add_option("--ramp-interval", flags->ramp_interval, "Seconds between ramp-up batches (default 1)")
    ->type_name("S")
    ->check(tools::number_in(0.001, 86400));
  std::string type_list;
  for (const auto& p : tools::sensor_type_profiles())
    type_list += (type_list.empty() ? "" : ", ") + std::string(p.name) + " (" + std::string(p.unit) + ")";
  cmd->add_option("--types", flags->types, "Comma-separated sensor types to simulate (default all: " + type_list + ")")
    ->type_name("LIST")
    ->delimiter(',');
  cmd->add_option("--hot-share", flags->hot_share,
                  "Share of sensors (0..1) whose mean sits just under their type's alert threshold, so they "
                  "raise alerts now and then (default 0.01)")
    ->type_name("F")
    ->check(tools::number_in(0, 1));
  cmd->add_option("--confirm-window", flags->confirm_window,
                  "Unconfirmed readings on the wire at most (publisher confirms; default 1000)")
    ->type_name("N")
    ->check(tools::integer_in(1, 1000000));
  cmd->add_option("--confirm-timeout", flags->confirm_timeout,
                  "Seconds to wait for the last confirms after publishing stopped (default 60)")
    ->type_name("S")
    ->check(tools::number_in(0, 86400));
  cmd->add_flag("--quiet", flags->quiet, "No progress lines (the summary is still printed on stderr)");
  cmd->add_flag("--json", flags->json, "Also print the summary as one JSON object on stdout");
  cmd->callback([&run, flags] { run = [flags] { return tools::run_sensors(*flags); }; });
}

} // namespace telluride::cli
