#include "telluride/state/checkpoint_record.hpp"

#include "telluride/domain/message_id_window.hpp"
#include "telluride/domain/sensor_table.hpp"
#include "telluride/domain/timestamp.hpp"
#include "telluride/state/checkpoint_rules.hpp"
#include "telluride/state/record_bytes.hpp"

#include <causeway/utf8.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

namespace telluride {

namespace detail {

/// The rules of a header that encode and decode both check; none when it keeps them.
std::optional<std::string> header_rule_broken(const record_header& h) {
  if (h.layout == 0 || h.layout > max_checkpoint_layout)
    return "layout " + std::to_string(h.layout) + " is out of 1.." + std::to_string(max_checkpoint_layout);
  if (h.shard >= h.layout)
    return "shard " + std::to_string(h.shard) + " is out of 0.." + std::to_string(h.layout - 1);
  if (h.kind == record_kind::layout && h.shard != 0)
    return "a layout record names shard " + std::to_string(h.shard) + " (it is every shard's: 0)";
  if (h.kind == record_kind::snapshot && h.base != h.sequence)
    return "snapshot " + std::to_string(h.sequence) + " names base " + std::to_string(h.base) +
           " (a snapshot is its own base)";
  if (h.kind == record_kind::delta && h.base >= h.sequence)
    return "delta " + std::to_string(h.sequence) + " builds on base " + std::to_string(h.base) +
           ", which does not come before it";
  if (h.base > h.sequence)
    return std::string(to_string(h.kind)) + " " + std::to_string(h.sequence) + " names base " +
           std::to_string(h.base) + ", after itself";
  if (h.owner.size() > max_owner_size)
    return "owner name is " + std::to_string(h.owner.size()) + " bytes (at most " +
           std::to_string(max_owner_size) + ")";
  if (!causeway::is_valid_utf8(h.owner))
    return "owner name is not UTF-8";
  return std::nullopt;
}

std::optional<std::string> kept_rule_broken(std::uint8_t kept, record_kind kind) {
  if ((kept & ~all_kept_fields) != 0)
    return "kept fields " + std::to_string(kept) + " are unknown (1 origin, 2 inverse_unit, 4 min, 8 max)";
  if (kept != 0 && kind != record_kind::delta)
    return "a " + std::string(to_string(kind)) + "'s sensor keeps fields (only a delta's may)";
  return std::nullopt;
}

} // namespace detail

namespace {

using detail::byte_reader;
using detail::checkpoint_problem;

using detail::checkpoint_magic;
using detail::header_rule_broken;
using detail::integer_id_tag;
using detail::string_id_tag;
using detail::text_timestamp_form;
using detail::utc_timestamp_form;
constexpr std::size_t stats_size = 8 + 8 * 8;
/// The fewest bytes a sensor takes: three empty string ids, stats, last reading, an empty
/// timestamp, the alert counter, and (version 2) the count of alerts.
constexpr std::size_t min_sensor_size_v1 = 3 * (1 + 4) + stats_size + 8 + 1 + 8;
constexpr std::size_t min_sensor_size_v2 = min_sensor_size_v1 + 8;
/// Version 3: three integer ids of one byte, a one-byte count, the doubles, an empty text
/// timestamp (form and length), one-byte alert counter and alerts.
constexpr std::size_t min_sensor_size_v3 = 3 * (1 + 1) + 1 + 8 * 8 + 8 + 2 + 1 + 1;
/// Version 4: the same with `kept` and four of the stats' doubles kept.
constexpr std::size_t min_sensor_size = min_sensor_size_v3 + 1 - 4 * 8;

std::size_t min_sensor_size_of(std::uint16_t version) noexcept {
  return version == checkpoint_format_v1   ? min_sensor_size_v1
         : version == checkpoint_format_v2 ? min_sensor_size_v2
         : version == checkpoint_format_v3 ? min_sensor_size_v3
                                           : min_sensor_size;
}

/// What reading a record's sensors takes besides their bytes.
struct sensor_context {
  std::uint16_t version = checkpoint_format_version;
  record_kind kind = record_kind::snapshot;
  std::int64_t written_at_s = 0;       // version 4's timestamps are relative to it
  const sensor_table* base = nullptr;  // where a delta's kept fields come from

  /// Versions 3 and 4: varints, and compact timestamps.
  bool is_compact() const noexcept { return version >= checkpoint_format_v3; }
};
/// The fewest bytes a message id takes: a fingerprint, or (version 1) an empty text.
constexpr std::size_t message_id_size = 8;
constexpr std::size_t min_message_id_size_v1 = 2;

// --- decoding -------------------------------------------------------------------------------

expected<json_id> read_id(byte_reader& in, bool is_compact) {
  const std::uint8_t tag = in.u8();
  if (tag == integer_id_tag)
    return json_id{is_compact ? in.zigzag() : in.i64()};
  if (tag != string_id_tag)
    return error{"id tag " + std::to_string(tag) + " is unknown"};
  const std::uint64_t size = is_compact ? in.varint() : in.u32();
  if (size > max_id_text_size)
    return error{"a string id is " + std::to_string(size) + " bytes (at most " + std::to_string(max_id_text_size) + ")"};
  const std::string_view text = in.bytes(size);
  if (in.failed())
    return error{in.failure()};
  if (!causeway::is_valid_utf8(text))
    return error{"a string id is not UTF-8"};
  return json_id{std::string(text)};
}

/// A sensor's last_timestamp: text (u8 length + bytes) before version 3; from version 3 the
/// form, then the text or a utc_timestamp's numbers (in version 4 its seconds relative to the
/// record's). Text of the utc form is not canonical.
expected<timestamp_text> read_timestamp(byte_reader& in, const sensor_context& context) {
  const bool is_compact = context.is_compact();
  const std::uint8_t form = is_compact ? in.u8() : text_timestamp_form;
  if (form == utc_timestamp_form) {
    utc_timestamp utc;
    utc.seconds = in.zigzag();
    if (context.version >= checkpoint_format_version)
      utc.seconds = detail::absolute_seconds(utc.seconds, context.written_at_s);
    utc.digits = in.u8();
    const std::uint64_t fraction = in.varint();
    if (in.failed())
      return error{in.failure()};
    utc.fraction = static_cast<std::uint32_t>(std::min<std::uint64_t>(fraction, 0xffffffff));
    auto text = utc_timestamp_text(utc);
    if (!text || fraction != utc.fraction)
      return error{"last_timestamp's numbers are out of range (seconds " + std::to_string(utc.seconds) + ", " +
                   std::to_string(utc.digits) + " fraction digits, fraction " + std::to_string(fraction) + ")"};
    return *text;
  }
  if (form != text_timestamp_form)
    return error{"last_timestamp form " + std::to_string(form) + " is unknown"};
  const std::uint8_t size = in.u8();
  const std::string_view text = in.bytes(size);
  if (in.failed())
    return error{in.failure()};
  if (text.size() > timestamp_text::capacity)
    return error{"last_timestamp is " + std::to_string(text.size()) + " bytes (at most " +
                 std::to_string(timestamp_text::capacity) + ")"};
  if (!causeway::is_valid_utf8(text))
    return error{"last_timestamp is not UTF-8"};
  timestamp_text kept{text};
  if (is_compact && kept.utc())
    return error{"last_timestamp is text of the form kept as numbers (not canonical)"};
  return kept;
}

/// The stats of the sensor whose fields a delta keeps: the state it builds on, `base`, holds it.
expected<running_stats::raw_state> kept_from(const sensor_table* base, const sensor_key& key) {
  if (!base)
    return error{"keeps fields of the state its delta builds on, which was not given"};
  const sensor_aggregate* was = base->find(key);
  if (!was)
    return error{"keeps fields of a sensor the state its delta builds on does not hold"};
  return was->stats.raw();
}

/// One sensor's record; an error names the problem within the sensor.
expected<sensor_record> read_sensor(byte_reader& in, const sensor_context& context) {
  const bool is_compact = context.is_compact();
  sensor_key key;
  for (json_id* id : {&key.line_id, &key.device_id, &key.sensor_id}) {
    auto read = read_id(in, is_compact);
    if (!read)
      return read.err();
    *id = std::move(*read);
  }
  const std::uint8_t kept = context.version >= checkpoint_format_version ? in.u8() : 0;  // 0 when truncated
  if (auto broken = detail::kept_rule_broken(kept, context.kind))
    return error{std::move(*broken)};
  running_stats::raw_state raw;
  if (kept != 0) {
    auto prior = kept_from(context.base, key);
    if (!prior)
      return prior.err();
    raw = *prior;  // the fields not kept are read over it
  }
  raw.count = is_compact ? in.varint() : in.u64();
  auto unless = [&](std::uint8_t field, double& x) {
    if ((kept & field) == 0)
      x = in.f64();
  };
  unless(kept_origin, raw.origin);
  raw.mean = in.f64();
  raw.m2 = in.f64();
  unless(kept_min, raw.min);
  unless(kept_max, raw.max);
  raw.sum = in.f64();
  raw.sum_error = in.f64();
  unless(kept_inverse_unit, raw.inverse_unit);
  const double last_reading = in.f64();
  auto timestamp = read_timestamp(in, context);
  if (!timestamp)
    return timestamp.err();
  const std::uint64_t consecutive = is_compact ? in.varint() : in.u64();
  const std::uint64_t alerts = context.version == checkpoint_format_v1 ? 0 : is_compact ? in.varint() : in.u64();
  if (in.failed())
    return error{in.failure()};
  auto stats = running_stats::from_raw(raw);
  if (!stats)
    return stats.err();
  if (!std::isfinite(last_reading))
    return error{"last_reading is not finite"};
  sensor_record record;
  record.aggregate.key = key;
  record.aggregate.stats = *stats;
  record.aggregate.last_reading = last_reading;
  record.aggregate.last_timestamp = *timestamp;
  record.consecutive_warnings = consecutive;
  record.alerts = alerts;
  return record;
}

struct versioned_header {
  record_header header;
  std::uint16_t version = checkpoint_format_version;
};

expected<versioned_header> read_header(byte_reader& in) {
  if (in.left() < checkpoint_header_size)
    return checkpoint_problem("too short for a header: " + std::to_string(in.left()) + " bytes (at least " +
                   std::to_string(checkpoint_header_size) + ")");
  if (in.bytes(checkpoint_magic.size()) != checkpoint_magic)
    return checkpoint_problem("no TLSR magic", 0);
  const std::uint16_t version = in.u16();
  if (version < checkpoint_format_v1 || version > checkpoint_format_version)
    return checkpoint_problem("format version " + std::to_string(version) + " is not supported (this build reads " +
                   std::to_string(checkpoint_format_v1) + " to " + std::to_string(checkpoint_format_version) + ")",
                   4);
  const std::uint8_t kind = in.u8();
  if (kind < 1 || kind > 5)
    return checkpoint_problem("kind " + std::to_string(kind) + " is unknown (1 snapshot, 2 delta, 3 takeover, 4 release, 5 layout)",
                   6);
  record_header h;
  h.kind = static_cast<record_kind>(kind);
  h.layout = in.u32();
  h.shard = in.u32();
  h.epoch = in.u64();
  h.sequence = in.u64();
  h.base = in.u64();
  h.written_at_ms = in.i64();
  const std::uint16_t owner_size = in.u16();
  const std::size_t owner_at = in.position();
  if (owner_size > max_owner_size)
    return checkpoint_problem("owner name is " + std::to_string(owner_size) + " bytes (at most " +
                   std::to_string(max_owner_size) + ")", owner_at);
  const std::string_view owner = in.bytes(owner_size);
  if (in.failed())
    return checkpoint_problem("truncated in the owner name", owner_at);
  h.owner.assign(owner);
  if (auto broken = header_rule_broken(h))
    return checkpoint_problem(*broken);
  return versioned_header{std::move(h), version};
}

/// Version 1's message ids: each id's text, taken in as its fingerprint.
expected<std::vector<std::uint64_t>> read_id_texts(byte_reader& in, std::uint32_t ids) {
  std::vector<std::uint64_t> fingerprints;
  if (ids > in.left() / min_message_id_size_v1)
    return checkpoint_problem("announces " + std::to_string(ids) + " message ids in " + std::to_string(in.left()) +
                   " bytes, which hold at most " + std::to_string(in.left() / min_message_id_size_v1), in.position());
  fingerprints.reserve(ids);
  for (std::uint32_t i = 0; i < ids; ++i) {
    const std::size_t at = in.position();
    const std::uint16_t size = in.u16();
    if (size > max_message_id_size && !in.failed())
      return checkpoint_problem("message id " + std::to_string(i + 1) + " is " + std::to_string(size) + " bytes (at most " +
                     std::to_string(max_message_id_size) + ")", at);
    const std::string_view id = in.bytes(size);
    if (in.failed())
      return checkpoint_problem("truncated in message id " + std::to_string(i + 1) + " of " + std::to_string(ids), at);
    fingerprints.push_back(message_id_fingerprint(id));
  }
  return fingerprints;
}

expected<std::vector<std::uint64_t>> read_fingerprints(byte_reader& in, std::uint32_t ids) {
  std::vector<std::uint64_t> fingerprints;
  if (ids > in.left() / message_id_size)
    return checkpoint_problem("announces " + std::to_string(ids) + " message ids in " + std::to_string(in.left()) +
                   " bytes, which hold at most " + std::to_string(in.left() / message_id_size), in.position());
  fingerprints.reserve(ids);
  for (std::uint32_t i = 0; i < ids; ++i)
    fingerprints.push_back(in.u64());
  return fingerprints;
}

expected<shard_image> read_image(byte_reader& in, const sensor_context& context) {
  const std::uint16_t version = context.version;
  shard_image image;
  image.alerts_raised = in.u64();
  const std::uint32_t sensors = in.u32();
  if (in.failed())
    return checkpoint_problem("truncated before the sensors", in.position());
  // Bound what the count may reserve by what the bytes left can hold.
  const std::size_t sensor_size = min_sensor_size_of(version);
  if (sensors > in.left() / sensor_size)
    return checkpoint_problem("announces " + std::to_string(sensors) + " sensors in " + std::to_string(in.left()) +
                   " bytes, which hold at most " + std::to_string(in.left() / sensor_size), in.position());
  image.sensors.reserve(sensors);
  for (std::uint32_t i = 0; i < sensors; ++i) {
    const std::size_t at = in.position();
    auto record = read_sensor(in, context);
    if (!record)
      return checkpoint_problem(record.err().message + " in sensor " + std::to_string(i + 1) + " of " + std::to_string(sensors), at);
    image.sensors.push_back(std::move(*record));
  }
  const std::uint32_t ids = in.u32();
  if (in.failed())
    return checkpoint_problem("truncated before the message ids", in.position());
  auto fingerprints = version == checkpoint_format_v1 ? read_id_texts(in, ids) : read_fingerprints(in, ids);
  if (!fingerprints)
    return fingerprints.err();
  image.message_ids = std::move(*fingerprints);
  return image;
}

} // namespace

std::string_view to_string(record_kind kind) noexcept {
  switch (kind) {
    case record_kind::snapshot: return "snapshot";
    case record_kind::delta: return "delta";
    case record_kind::takeover: return "takeover";
    case record_kind::release: return "release";
    case record_kind::layout: return "layout";
  }
  return "unknown";
}

expected<record_header> decode_checkpoint_header(std::string_view bytes) {
  byte_reader in{bytes};
  auto read = read_header(in);
  if (!read)
    return read.err();
  return std::move(read->header);
}

expected<checkpoint_record> decode_checkpoint(std::string_view bytes, const sensor_table* base) {
  byte_reader in{bytes};
  auto header = read_header(in);
  if (!header)
    return header.err();
  checkpoint_record record;
  record.header = std::move(header->header);
  if (has_image(record.header.kind)) {
    const sensor_context context{header->version, record.header.kind,
                                 detail::whole_seconds(record.header.written_at_ms), base};
    auto image = read_image(in, context);
    if (!image)
      return image.err();
    record.image = std::move(*image);
  }
  if (in.left() != 0)
    return checkpoint_problem("bytes after the end of the " + std::string(to_string(record.header.kind)) + ": " +
                   std::to_string(in.left()), in.position());
  return record;
}

} // namespace telluride
