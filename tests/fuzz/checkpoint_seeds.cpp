// checkpoint_seeds.cpp — writes the seeds of the checkpoint_decoder fuzz target: one valid
// record of each kind, made by the code that makes them in the daemon (a shard_state's
// snapshot and delta, encode_checkpoint), so the seeds follow the format when it changes.
// (The seeds named v1_*, v2_* and v3_* are what this program wrote for format versions 1 to 3,
// kept so the fuzzer goes on reading those records, which users' streams still hold.)
// delta_kept is a delta whose sensors keep fields (shard_state::encode_image): it decodes
// against the state snapshot_full_window restores.
//
//   cmake --build build-fuzz --target checkpoint_seeds
//   build-fuzz/bin/checkpoint_seeds tests/fuzz/corpus/checkpoint_decoder
//
// tests/unit/state/fuzz_seeds_test.cpp checks that the committed seeds still decode.
#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/shard_state.hpp"

#include <cfloat>
#include <cstdio>
#include <deque>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace telluride;

sensor_key key_of(std::int64_t sensor) {
  return sensor_key{json_id{10}, json_id{100}, json_id{sensor}};
}

sensor_key string_key_of(const char* line, const char* sensor) {
  return sensor_key{json_id{std::string(line)}, json_id{100}, json_id{std::string(sensor)}};
}

bool write(const std::string& folder, const char* name, const checkpoint_record& record) {
  const auto bytes = encode_checkpoint(record);
  if (!bytes) {
    std::fprintf(stderr, "checkpoint_seeds: %s: %s\n", name, bytes.err().message.c_str());
    return false;
  }
  std::ofstream out(folder + "/" + name, std::ios::binary);
  out << *bytes;
  return static_cast<bool>(out);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: checkpoint_seeds FOLDER\n");
    return 2;
  }
  const std::string folder = argv[1];
  alert_rules rules;
  rules.thresholds = {{"default", 100.0}};
  shard_state shard{rules, 4};
  std::deque<reading> readings;
  std::vector<shard_state::input> batch;
  auto add = [&](const sensor_key& key, double value, std::string_view id) {
    reading& r = readings.emplace_back();
    r.key = key;
    r.value = value;
    r.timestamp = "2026-11-22T10:00:00.123Z";
    batch.push_back({&r, message_id_fingerprint(id)});
  };

  checkpoint_record record;
  record.header = record_header{record_kind::snapshot, 4, 1, 1, 1, 1, 1764600000000, "node-a"};
  bool ok = write(folder, "snapshot_empty", record);

  add(key_of(1), 99.5, "m-1");
  add(string_key_of("line-ü", "s-1"), 150, "m-2");
  add(key_of(1), 1e308, "m-3");
  add(string_key_of("line-ü", "s-1"), 160, "m-4");
  shard.apply(batch);
  batch.clear();
  record.header = record_header{record_kind::snapshot, 4, 1, 1, 2, 2, 1764600000100, "node-a"};
  record.image = shard.take_snapshot();
  ok = ok && write(folder, "snapshot_two_sensors", record);

  add(key_of(2), -1e308, "m-5");
  add(key_of(2), DBL_MAX, "m-6");
  add(key_of(3), 4.9e-324, "m-7");
  add(key_of(1), -DBL_MAX, "m-8");
  add(string_key_of("line-ü", "s-1"), 170, "m-9");  // the third warning: an alert
  shard.apply(batch);
  record.header = record_header{record_kind::delta, 4, 1, 1, 3, 2, 1764600000200, "node-a"};
  record.image = shard.take_delta();
  ok = ok && write(folder, "delta_extremes", record);

  record.header = record_header{record_kind::snapshot, 4, 1, 1, 4, 4, 1764600000300, "node-a"};
  record.image = shard.take_snapshot();  // a full id window
  ok = ok && write(folder, "snapshot_full_window", record);
  // A change of the number of shards to 8, with what the new shards inherit.
  record.header = record_header{record_kind::layout, 8, 0, 0, 0, 0, 1764600000350, "node-a"};
  ok = ok && write(folder, "layout_inheritance", record);

  record.image = {};
  record.header = record_header{record_kind::release, 4, 1, 1, 5, 4, 1764600000400, "node-a"};
  ok = ok && write(folder, "release", record);
  record.header = record_header{record_kind::takeover, 4, 1, 2, 6, 4, 1764600000500, "node-b"};
  ok = ok && write(folder, "takeover", record);

  // Readings within what sensors 1 and 2 read before: their entries keep all four fields.
  batch.clear();
  add(key_of(1), 0.5, "m-10");
  add(key_of(2), 1.0, "m-11");
  shard.apply(batch);
  const auto kept = shard.encode_image(record_header{record_kind::delta, 4, 1, 2, 7, 4, 1764600000600, "node-b"});
  if (!kept) {
    std::fprintf(stderr, "checkpoint_seeds: delta_kept: %s\n", kept.err().message.c_str());
    return 1;
  }
  std::ofstream out(folder + "/delta_kept", std::ios::binary);
  out << *kept;
  return ok && out ? 0 : 1;
}
