// bench_checkpoint — what a shard's checkpoint costs: bytes per sensor in a snapshot record,
// and the CPU time to take, encode, decode and restore one, without a broker.
//
//   bench_checkpoint [--sensors 100000] [--ids 4096] [--rounds 3]
//
// A shard_state gets `--sensors` sensors with integer ids (10 readings each, ISO timestamps
// with microseconds as the simulator sends them, no alerts) and a full message-id window of
// `--ids` ids shaped like the simulator's (`run-id-N`). Each step is timed in CPU time (one
// thread), best of `--rounds`: take_snapshot (copying the state into an image), encode
// (image → bytes), decode (bytes → record), restore (record → a fresh shard_state), and
// restore_shard over the snapshot record and one delta (decode and fold, what a new owner
// runs). A delta after 10 % of the sensors changed is measured too. Times are reported per
// 100,000 sensors. The last stdout line is one JSON object (bench/run.sh contract): name
// "checkpoint", msgs_per_s (sensors restored per second by restore_shard), peak_rss_mib,
// bytes_per_sensor, ...
#include "support/bench_support.hpp"
#include "support/command_line.hpp"
#include "support/shard_fill.hpp"

#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/shard_state.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace telluride;

/// The best CPU time of `rounds` runs of `step`, in milliseconds (the process is this one
/// thread: its CPU time is the step's).
double best_ms(int rounds, const std::function<void()>& step) {
  double best = std::numeric_limits<double>::max();
  for (int i = 0; i < rounds; ++i) {
    const double start = bench::own_cpu_seconds();
    step();
    best = std::min(best, (bench::own_cpu_seconds() - start) * 1e3);
  }
  return best;
}

/// The records' written_at: seconds after the fill's readings (support/shard_fill.hpp), as a
/// daemon writes them, so that their timestamps take the bytes they take in a daemon's records.
constexpr std::int64_t fill_written_at_ms = 1613092740000;  // 2021-02-12T01:19:00Z

struct settings {
  std::size_t sensors = 100000;
  std::size_t ids = 4096;
  int rounds = 3;
};

std::string encoded(const checkpoint_record& record) {
  auto bytes = encode_checkpoint(record);
  if (!bytes) {
    std::fprintf(stderr, "bench_checkpoint: %s\n", bytes.err().message.c_str());
    std::exit(1);
  }
  return std::move(*bytes);
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Bytes per sensor and CPU time of a shard's checkpoint records.", "bench_checkpoint"};
  bench::last_one_wins(app);
  app.add_option("--sensors", s.sensors, "sensors in the shard")->check(CLI::Range(1, 10'000'000));
  app.add_option("--ids", s.ids, "message ids the shard remembers")->check(CLI::Range(1, 1'000'000));
  app.add_option("--rounds", s.rounds, "runs of each step; the best counts")->check(CLI::Range(1, 100));
  bench::parse_command_line(app, argc, argv, "checkpoint");

  const alert_rules rules;  // the daemon's defaults: the readings stay below them
  shard_state shard{rules, s.ids};
  std::size_t next_id = 0;
  bench::apply_readings(shard, 0, s.sensors, 10, next_id);

  checkpoint_record snapshot;
  snapshot.header = record_header{record_kind::snapshot, 12, 3, 1, 1, 1, fill_written_at_ms, "node-a"};
  const double take_ms = best_ms(s.rounds, [&] { snapshot.image = shard.take_snapshot(); });
  std::string bytes;
  const double encode_ms = best_ms(s.rounds, [&] { bytes = encoded(snapshot); });
  expected<checkpoint_record> decoded = error{"not decoded"};
  const double decode_ms = best_ms(s.rounds, [&] { decoded = decode_checkpoint(bytes); });
  if (!decoded) {
    std::fprintf(stderr, "bench_checkpoint: %s\n", decoded.err().message.c_str());
    return 1;
  }
  const double restore_ms = best_ms(s.rounds, [&] {
    shard_state restored{rules, s.ids};
    restored.restore(decoded->image);
  });
  const std::size_t id_bytes = 8 * snapshot.image.message_ids.size();
  const std::size_t sensor_bytes = bytes.size() - checkpoint_header_size - snapshot.header.owner.size() - 16 - id_bytes;
  const double bytes_per_sensor = static_cast<double>(sensor_bytes) / static_cast<double>(s.sensors);

  // A delta after a tenth of the sensors had one more reading each.
  const std::size_t changed = std::max<std::size_t>(1, s.sensors / 10);
  bench::apply_readings(shard, 0, changed, 1, next_id);
  checkpoint_record delta;
  delta.header = record_header{record_kind::delta, 12, 3, 1, 2, 1, fill_written_at_ms + 100, "node-a"};
  delta.image = shard.take_delta();
  const std::string delta_bytes = encoded(delta);

  const std::vector<std::string> stream{bytes, delta_bytes};
  std::size_t restored_sensors = 0;
  const double fold_ms = best_ms(s.rounds, [&] {
    auto restored = restore_shard(shard_identity{12, 3}, stream, rules, s.ids);
    if (!restored) {
      std::fprintf(stderr, "bench_checkpoint: %s\n", restored.err().message.c_str());
      std::exit(1);
    }
    restored_sensors = restored->state.table().size();
  });
  if (restored_sensors != s.sensors) {
    std::fprintf(stderr, "bench_checkpoint: restored %zu sensors, expected %zu\n", restored_sensors, s.sensors);
    return 1;
  }

  const double per_100k = 100000.0 / static_cast<double>(s.sensors);
  std::fprintf(stderr,
               "%zu sensors, %zu ids: snapshot %zu bytes (%.1f per sensor), delta of %zu sensors %zu bytes; per "
               "100,000 sensors: take %.1f ms, encode %.1f ms, decode %.1f ms, restore %.1f ms, decode+fold %.1f ms\n",
               s.sensors, s.ids, bytes.size(), bytes_per_sensor, changed, delta_bytes.size(), take_ms * per_100k,
               encode_ms * per_100k, decode_ms * per_100k, restore_ms * per_100k, fold_ms * per_100k);
  const nlohmann::json report{
    {"name", "checkpoint"},
    {"msgs_per_s", static_cast<double>(s.sensors) / (fold_ms / 1e3)},
    {"peak_rss_mib", bench::peak_rss_mib()},
    {"sensors", s.sensors},
    {"ids", s.ids},
    {"snapshot_bytes", bytes.size()},
    {"bytes_per_sensor", bytes_per_sensor},
    {"delta_sensors", changed},
    {"delta_bytes", delta_bytes.size()},
    {"take_snapshot_ms_per_100k", take_ms * per_100k},
    {"encode_ms_per_100k", encode_ms * per_100k},
    {"decode_ms_per_100k", decode_ms * per_100k},
    {"restore_ms_per_100k", restore_ms * per_100k},
    {"decode_and_fold_ms_per_100k", fold_ms * per_100k},
  };
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
