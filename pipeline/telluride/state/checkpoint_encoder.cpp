// The encoding half of checkpoint_record.hpp: a record's bytes, always in the current format
// version (4), written part by part (checkpoint_encoder) or from a whole record
// (encode_checkpoint).
#include "telluride/state/checkpoint_record.hpp"

#include "telluride/domain/timestamp.hpp"
#include "telluride/state/checkpoint_rules.hpp"
#include "telluride/state/record_bytes.hpp"

#include <causeway/utf8.hpp>

#include <limits>
#include <optional>

namespace telluride {

namespace {

using detail::byte_writer;
using detail::checkpoint_problem;
using detail::header_rule_broken;
using detail::integer_id_tag;
using detail::string_id_tag;
using detail::text_timestamp_form;
using detail::utc_timestamp_form;

std::optional<std::string> write_id(byte_writer& out, const json_id& id) {
  if (id.is_integer()) {
    out.u8(integer_id_tag);
    out.zigzag(id.integer());
    return std::nullopt;
  }
  const std::string& text = id.text();
  if (text.size() > max_id_text_size)
    return "a string id is " + std::to_string(text.size()) + " bytes (at most " + std::to_string(max_id_text_size) + ")";
  if (!causeway::is_valid_utf8(text))
    return std::string("a string id is not UTF-8");
  out.u8(string_id_tag);
  out.varint(text.size());
  out.bytes(text);
  return std::nullopt;
}

// A sensor's entry less its string ids takes at most: three integer ids (a tag and a varint
// each), the kept byte and the count, eight doubles, the last reading, a timestamp (the text
// form: form, length and text), the alert counter and the alerts.
constexpr std::size_t varint_bound = byte_writer::max_varint_size;
constexpr std::size_t entry_bound =
  3 * (1 + varint_bound) + 1 + varint_bound + 8 * 8 + 8 + 2 + timestamp_text::capacity + 2 * varint_bound;
using entry_bytes = detail::stack_bytes<entry_bound>;
using entry_writer = detail::basic_byte_writer<entry_bytes>;

void write_stats(entry_writer& out, const running_stats& stats, std::uint8_t kept) {
  const running_stats::raw_state raw = stats.raw();
  out.u8(kept);
  out.varint(raw.count);
  auto unless = [&](std::uint8_t field, double x) {
    if ((kept & field) == 0)
      out.f64(x);
  };
  unless(kept_origin, raw.origin);
  out.f64(raw.mean);
  out.f64(raw.m2);
  unless(kept_min, raw.min);
  unless(kept_max, raw.max);
  out.f64(raw.sum);
  out.f64(raw.sum_error);
  unless(kept_inverse_unit, raw.inverse_unit);
}

// The entry goes to the record in one append (string ids, unbounded, straight to the record).
std::optional<std::string> write_sensor(byte_writer& record, const sensor_aggregate& a, std::uint64_t warnings,
                                        std::uint64_t alerts, std::uint8_t kept, std::int64_t written_at_s) {
  entry_bytes entry;
  entry_writer out{entry};
  if (const sensor_key* key = a.key.with_strings()) {
    for (const json_id* id : {&key->line_id, &key->device_id, &key->sensor_id})
      if (auto broken = write_id(record, *id))
        return broken;
  } else {
    for (std::int64_t id : a.key.integer_ids()) {
      out.u8(integer_id_tag);
      out.zigzag(id);
    }
  }
  write_stats(out, a.stats, kept);
  out.f64(a.last_reading);
  if (const auto utc = a.last_timestamp.utc()) {
    out.u8(utc_timestamp_form);
    out.zigzag(detail::relative_seconds(utc->seconds, written_at_s));
    out.u8(utc->digits);
    out.varint(utc->fraction);
  } else {
    if (!causeway::is_valid_utf8(a.last_timestamp.view()))
      return std::string("a last_timestamp is not UTF-8");
    out.u8(text_timestamp_form);
    out.u8(static_cast<std::uint8_t>(a.last_timestamp.size()));
    out.bytes(a.last_timestamp.view());
  }
  out.varint(warnings);
  out.varint(alerts);
  record.bytes(entry.view());
  return std::nullopt;
}

} // namespace

checkpoint_encoder::checkpoint_encoder(const record_header& h, std::uint64_t alerts_raised, std::size_t sensors,
                                       std::size_t size_hint)
  : sensors_left_(sensors) {
  if (auto broken = header_rule_broken(h)) {
    problem_ = std::move(*broken);
    return;
  }
  if (sensors > std::numeric_limits<std::uint32_t>::max()) {
    problem_ = "an image holds 2^32 sensors or ids or more";
    return;
  }
  written_at_s_ = detail::whole_seconds(h.written_at_ms);
  bytes_.reserve(checkpoint_header_size + h.owner.size() + size_hint);
  byte_writer out{bytes_};
  out.bytes(detail::checkpoint_magic);
  out.u16(checkpoint_format_version);
  out.u8(static_cast<std::uint8_t>(h.kind));
  out.u32(h.layout);
  out.u32(h.shard);
  out.u64(h.epoch);
  out.u64(h.sequence);
  out.u64(h.base);
  out.i64(h.written_at_ms);
  out.u16(static_cast<std::uint16_t>(h.owner.size()));
  out.bytes(h.owner);
  has_image_ = has_image(h.kind);
  kind_ = h.kind;
  if (has_image_) {
    out.u64(alerts_raised);
    out.u32(static_cast<std::uint32_t>(sensors));
  }
}

void checkpoint_encoder::sensor(const sensor_aggregate& aggregate, std::uint64_t consecutive_warnings,
                                std::uint64_t alerts, std::uint8_t kept) {
  if (problem_)
    return;
  if (!has_image_ || sensors_left_ == 0) {
    problem_ = "more sensors than the image announced";
    return;
  }
  if (auto broken = detail::kept_rule_broken(kept, kind_)) {
    problem_ = std::move(*broken);
    return;
  }
  --sensors_left_;
  byte_writer out{bytes_};
  if (auto broken = write_sensor(out, aggregate, consecutive_warnings, alerts, kept, written_at_s_))
    problem_ = std::move(*broken);
}

void checkpoint_encoder::ids(std::size_t count) {
  if (problem_)
    return;
  if (!has_image_ || sensors_left_ != 0 || has_ids_) {
    problem_ = "the ids do not follow every announced sensor";
    return;
  }
  if (count > std::numeric_limits<std::uint32_t>::max()) {
    problem_ = "an image holds 2^32 sensors or ids or more";
    return;
  }
  has_ids_ = true;
  ids_left_ = count;
  byte_writer{bytes_}.u32(static_cast<std::uint32_t>(count));
}

void checkpoint_encoder::id(std::uint64_t fingerprint) {
  if (problem_)
    return;
  if (!has_ids_ || ids_left_ == 0) {
    problem_ = "more message ids than announced";
    return;
  }
  --ids_left_;
  byte_writer{bytes_}.u64(fingerprint);
}

expected<std::string> checkpoint_encoder::finish() && {
  if (!problem_ && has_image_ && (!has_ids_ || ids_left_ != 0 || sensors_left_ != 0))
    problem_ = "the image ended before every announced sensor and id";
  if (problem_)
    return checkpoint_problem(*problem_);
  return std::move(bytes_);
}

expected<std::string> encode_checkpoint(const checkpoint_record& record) {
  const record_header& h = record.header;
  const shard_image& image = record.image;
  if (!header_rule_broken(h) && !has_image(h.kind) &&
      (image.alerts_raised != 0 || !image.sensors.empty() || !image.message_ids.empty()))
    return checkpoint_problem("a " + std::string(to_string(h.kind)) + " record holds no state");
  if (image.message_ids.size() > std::numeric_limits<std::uint32_t>::max())
    return checkpoint_problem("an image holds 2^32 sensors or ids or more");
  const std::size_t hint = has_image(h.kind) ? 16 + image.sensors.size() * 120 + image.message_ids.size() * 8 : 0;
  checkpoint_encoder encoder{h, image.alerts_raised, has_image(h.kind) ? image.sensors.size() : 0, hint};
  if (!has_image(h.kind))
    return std::move(encoder).finish();
  for (const sensor_record& record : image.sensors)
    encoder.sensor(record.aggregate, record.consecutive_warnings, record.alerts);
  encoder.ids(image.message_ids.size());
  for (std::uint64_t fingerprint : image.message_ids)
    encoder.id(fingerprint);
  return std::move(encoder).finish();
}

} // namespace telluride
