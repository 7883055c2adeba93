// checkpoint_decoder_fuzz.cpp — the checkpoint record decoder (docs/checkpoints.md) on
// arbitrary bytes, and what a restore does with what it accepts.
//
// A delta whose sensors keep fields (format version 4) decodes only against the state it
// builds on: what does not decode alone is decoded again against a fixed state holding the
// seeds' sensors (their keys; their values span the doubles, so kept min and max take any).
//
// Invariants: an error is one short line of valid UTF-8 starting "checkpoint record: ", and the
// header decoder agrees with the full decoder (the same error for a bad header, the same
// fields otherwise); a decoded record encodes to exactly the input when the input is of the
// current version and decodes alone (the format is canonical), and an older version's record
// (docs/checkpoints.md) or a delta that keeps fields to current bytes that decode alone to the
// same record;
// a shard restored from it (snapshot) or folded with it (delta) publishes aggregates that are
// valid JSON with finite numbers, before and after one more reading of every sensor, and
// snapshots to a record that decodes again. Allocation is bounded by -malloc_limit_mb
// (checkpoint_decoder.options): a count that the bytes do not justify must not reserve.
// Seeds: tests/fuzz/corpus/checkpoint_decoder/, written by checkpoint_seeds.cpp.
#include "fuzz_check.hpp"

#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/shard_state.hpp"

#include <nlohmann/json.hpp>

#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace telluride;

constexpr std::size_t max_error_size = 300;

alert_rules rules() {
  alert_rules out;
  out.thresholds = {{"default", 100.0}};
  out.alert_after = 2;
  return out;
}

void check_published(shard_state& shard) {
  shard.take_changed([](const sensor_aggregate& aggregate) {
    const std::string text = to_json_text(aggregate);
    fuzz::check(fuzz::is_valid_utf8(text), "an aggregate is valid UTF-8", text);
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    fuzz::check(!parsed.is_discarded(), "an aggregate is valid JSON", text);
    for (const char* field : {"total_reads", "min", "max", "mean", "stddev", "last_reading"})
      fuzz::check(parsed.contains(field) && parsed[field].is_number(), "an aggregate's numbers are finite", text);
  });
}

/// One more reading of every sensor: 1e308 alternately up and down.
void read_every_sensor_once(shard_state& shard) {
  std::deque<reading> readings;
  std::vector<shard_state::input> batch;
  for (std::uint32_t p = 0; p < shard.table().size(); ++p) {
    reading& r = readings.emplace_back();
    r.key = shard.table().at(p).key.key();
    r.value = p % 2 == 0 ? 1e308 : -1e308;
    r.timestamp = "2026-11-22T10:00:00Z";
    batch.push_back({&r, {}});
  }
  shard.apply(batch);
}

/// The state a delta that keeps fields is decoded against: the seeds' sensors
/// (checkpoint_seeds.cpp), each with readings of -DBL_MAX and DBL_MAX.
shard_state base_state() {
  shard_state shard{rules(), 8};
  std::deque<reading> readings;
  std::vector<shard_state::input> batch;
  const std::vector<sensor_key> keys{
      {json_id{10}, json_id{100}, json_id{1}}, {json_id{10}, json_id{100}, json_id{2}},
      {json_id{10}, json_id{100}, json_id{3}},
      {json_id{std::string("line-ü")}, json_id{100}, json_id{std::string("s-1")}}};
  for (const sensor_key& key : keys)
    for (double value : {-DBL_MAX, DBL_MAX}) {
      reading& r = readings.emplace_back();
      r.key = key;
      r.value = value;
      r.timestamp = "2026-11-22T10:00:00Z";
      batch.push_back({&r, {}});
    }
  shard.apply(batch);
  return shard;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const shard_state base = base_state();
  const auto alone = decode_checkpoint(bytes);
  const auto decoded = alone ? alone : decode_checkpoint(bytes, &base.table());
  const bool needs_base = !alone && decoded;  // a delta that keeps fields
  const auto header = decode_checkpoint_header(bytes);
  if (!decoded) {
    const std::string& message = decoded.err().message;
    fuzz::check_error_text(message, "decode_checkpoint");
    fuzz::check(message.size() <= max_error_size, "a checkpoint error is short", message);
    fuzz::check(message.starts_with("checkpoint record: "), "a checkpoint error says what it is about", message);
    if (!header)
      fuzz::check(header.err().message == message, "the header decoder gives the full decoder's error",
                  [&] { return header.err().message + " | " + message; });
    return 0;
  }
  const record_header& h = decoded->header;
  fuzz::check(header.has_value() && header->kind == h.kind && header->sequence == h.sequence &&
                  header->epoch == h.epoch && header->owner == h.owner,
              "the header decoder reads the header the full decoder reads");

  const auto again = encode_checkpoint(*decoded);
  fuzz::check(again.has_value(), "a decoded record encodes", [&] { return again.err().message; });
  // The header decoded; a delta that keeps fields encodes whole.
  const bool is_current = static_cast<std::uint8_t>(bytes[4]) == checkpoint_format_version && !needs_base;
  if (is_current) {
    fuzz::check(*again == bytes, "a decoded record encodes to the same bytes", *again);
  } else {
    const auto reread = decode_checkpoint(*again);
    bool same = reread.has_value() && encode_checkpoint(*reread).value() == *again &&
                reread->image.message_ids == decoded->image.message_ids &&
                reread->image.sensors.size() == decoded->image.sensors.size();
    for (std::size_t i = 0; same && i < decoded->image.sensors.size(); ++i) {
      const sensor_record& was = decoded->image.sensors[i];
      const sensor_record& is = reread->image.sensors[i];
      same = is.aggregate.key == was.aggregate.key &&
             is.aggregate.last_timestamp == was.aggregate.last_timestamp &&
             is.aggregate.stats.count() == was.aggregate.stats.count() &&
             is.consecutive_warnings == was.consecutive_warnings && is.alerts == was.alerts;
    }
    fuzz::check(same, "an older version's record, or a delta that keeps fields, encodes to current bytes that "
                      "decode alone to the same record");
  }

  if (!has_image(h.kind))
    return 0;
  shard_state shard = needs_base ? base : shard_state{rules(), 8};
  if (h.kind == record_kind::snapshot)
    shard.restore(decoded->image);
  else
    shard.apply(decoded->image);
  check_published(shard);
  read_every_sensor_once(shard);
  check_published(shard);

  checkpoint_record snapshot;
  snapshot.header = h;
  snapshot.header.kind = record_kind::snapshot;
  snapshot.header.base = h.sequence;
  snapshot.image = shard.take_snapshot();
  const auto written = encode_checkpoint(snapshot);
  fuzz::check(written.has_value(), "a restored shard's snapshot encodes", [&] { return written.err().message; });
  const auto reread = decode_checkpoint(*written);
  fuzz::check(reread.has_value(), "a restored shard's snapshot decodes",
              [&] { return reread.err().message; });
  return 0;
}
