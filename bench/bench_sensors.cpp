// bench_sensors — what tracking a sensor costs: bytes of memory per sensor and nanoseconds per
// reading in the daemon's sensor tracker (the state behind every aggregate), without a broker.
//
//   bench_sensors [--sensors 10000] [--readings-per-sensor 10] [--batch 100]
//
// Memory: readings of `--sensors` new sensors (the bench's reading_fleet bodies, parsed by the
// daemon's parser beforehand) are applied to a sensor_tracker as the daemon applies batches
// (16 shards, batches of `--batch`, sensors round-robin); bytes_per_sensor is the growth of
// the allocator's bytes in use (mallinfo2: heap and mmapped) divided by the sensors, measured
// after 1,000 warm-up sensors so that first-use buffers do not count. Readings carry no
// message_id: the message-id window is a fixed size, not per sensor. The fleet's readings
// stay below the alert thresholds, as a healthy plant's do; bytes_per_alerting_sensor is the
// same measurement with every reading above its threshold (each sensor then also holds a
// warning counter). Speed: ns_per_reading is tracker.apply over every reading again (sensors
// known), stats_add_ns one running_stats::add, both in this thread's CPU time. The last stdout line is one JSON object
// (bench/run.sh contract) with name "sensors", msgs_per_s (= readings applied per second),
// peak_rss_mib, bytes_per_sensor, ...
#include "support/command_line.hpp"
#include "support/bench_support.hpp"
#include "support/reading_fleet.hpp"

#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/domain/reading.hpp"
#include "telluride/domain/running_stats.hpp"

#include <malloc.h>

#include <ctime>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

/// This thread's CPU time in nanoseconds: on a shared machine, wall time counts other
/// processes' turns too.
double cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

constexpr std::size_t tracker_shards = 16;  // as the daemon
constexpr std::size_t warm_up_sensors = 1000;

struct settings {
  std::size_t sensors = 10000;
  std::size_t readings_per_sensor = 10;
  std::size_t batch = 100;
};

std::size_t bytes_in_use() {
  const struct mallinfo2 info = ::mallinfo2();
  return info.uordblks + info.hblkhd;
}

/// Readings of sensors [first, first + count) of `fleet`, `per_sensor` each, round-robin.
std::vector<telluride::decoded_reading> decode(const bench::reading_fleet& fleet, std::size_t first,
                                               std::size_t count, std::size_t per_sensor) {
  telluride::reading_parser parser;
  causeway::amqp::outgoing_message msg;
  std::vector<telluride::decoded_reading> out;
  out.reserve(count * per_sensor);
  for (std::size_t round = 0; round < per_sensor; ++round)
    for (std::size_t n = first; n < first + count; ++n) {
      fleet.fill(n + round * fleet.size(), "", msg);
      auto parsed = parser.parse(msg.body);
      if (!parsed) {
        std::fprintf(stderr, "bench_sensors: %s\n", parsed.err().message.c_str());
        std::exit(1);
      }
      telluride::decoded_reading d;
      d.hash = hash_value(parsed->key);
      d.reading = std::move(*parsed);
      out.push_back(std::move(d));
    }
  return out;
}

/// Applies `readings` in batches, as a batch processor does.
void apply(telluride::sensor_tracker& tracker, const std::vector<telluride::decoded_reading>& readings,
           std::size_t batch) {
  std::vector<telluride::sensor_tracker::input> inputs;
  for (std::size_t i = 0; i < readings.size(); i += batch) {
    inputs.clear();
    for (std::size_t j = i; j < std::min(readings.size(), i + batch); ++j)
      inputs.push_back({&readings[j], {}});
    tracker.apply(inputs);
  }
}

struct memory_result {
  double bytes_per_sensor = 0;
  double ns_per_reading = 0;
};

memory_result measure(const settings& s, const telluride::alert_rules& rules) {
  bench::reading_fleet fleet{warm_up_sensors + s.sensors};
  auto warm = decode(fleet, 0, warm_up_sensors, s.readings_per_sensor);
  auto measured = decode(fleet, warm_up_sensors, s.sensors, s.readings_per_sensor);
  telluride::sensor_tracker tracker{tracker_shards, rules, 65536, warm_up_sensors + s.sensors};
  apply(tracker, warm, s.batch);
  const std::size_t before = bytes_in_use();
  apply(tracker, measured, s.batch);
  const std::size_t after = bytes_in_use();
  memory_result out;
  out.bytes_per_sensor = (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(s.sensors);
  const double start = cpu_ns();
  apply(tracker, measured, s.batch);
  out.ns_per_reading = (cpu_ns() - start) / static_cast<double>(measured.size());
  if (tracker.size() != warm_up_sensors + s.sensors) {
    std::fprintf(stderr, "bench_sensors: the tracker holds %zu sensors, expected %zu\n", tracker.size(),
                 warm_up_sensors + s.sensors);
    std::exit(1);
  }
  return out;
}

double stats_add_ns() {
  constexpr std::size_t accumulators = 1000;
  constexpr std::size_t values = 10'000'000;
  std::vector<double> input(values);
  for (std::size_t i = 0; i < values; ++i)
    input[i] = 99.4 + static_cast<double>(i % 977) * 0.001;
  double best = std::numeric_limits<double>::max();
  double sink = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<telluride::running_stats> stats(accumulators);
    const double start = cpu_ns();
    for (std::size_t i = 0; i < values; ++i)
      stats[i % accumulators].add(input[i]);
    const double ns = cpu_ns() - start;
    best = std::min(best, ns / values);
    for (const auto& x : stats)
      sink += x.mean();
  }
  if (sink == 0)
    std::fprintf(stderr, "\n");
  return best;
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Bytes per tracked sensor and nanoseconds per reading in the daemon's sensor tracker.",
               "bench_sensors"};
  bench::last_one_wins(app);
  app.add_option("--sensors", s.sensors, "sensors measured (after 1,000 warm-up sensors)")
    ->check(CLI::Range(1, 10'000'000));
  app.add_option("--readings-per-sensor", s.readings_per_sensor, "readings of each sensor")->check(CLI::Range(1, 1000));
  app.add_option("--batch", s.batch, "readings per applied batch")->check(CLI::Range(1, 100000));
  bench::parse_command_line(app, argc, argv, "sensors");

  const telluride::alert_rules healthy;  // the daemon's defaults: the fleet stays below them
  telluride::alert_rules alerting;
  alerting.thresholds = {{"default", -1e300}};
  alerting.alert_after = 1'000'000;  // every reading warns, none raises an alert
  const auto typical = measure(s, healthy);
  const auto above = measure(s, alerting);
  const double add_ns = stats_add_ns();
  std::fprintf(stderr,
               "%zu sensors: %.0f bytes per sensor (%.0f with a warning counter each); tracker.apply %.0f ns "
               "per reading; running_stats::add %.1f ns\n",
               s.sensors, typical.bytes_per_sensor, above.bytes_per_sensor, typical.ns_per_reading, add_ns);
  const nlohmann::json report{
    {"name", "sensors"},
    {"msgs_per_s", 1e9 / typical.ns_per_reading},
    {"peak_rss_mib", bench::peak_rss_mib()},
    {"sensors", s.sensors},
    {"bytes_per_sensor", typical.bytes_per_sensor},
    {"bytes_per_alerting_sensor", above.bytes_per_sensor},
    {"ns_per_reading", typical.ns_per_reading},
    {"stats_add_ns", add_ns},
  };
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
