// checkpoint_record.hpp — one record of the state stream, and its bytes (docs/checkpoints.md).
//
// Each shard's owner writes records to the RabbitMQ stream `state_stream`, one AMQP message
// body each: a snapshot (the whole shard state), a delta (what changed since the shard's
// previous snapshot or delta), a takeover (a new owner's fence: its epoch, no state), a
// release (the owner handed the shard over cleanly) or a layout record (a change of the number
// of shards: the layout it names starts afresh, and its image is the state the new shards
// inherit; docs/checkpoints.md, Changing the number of shards). Binary, little-endian, versioned:
//
//   header   magic "TLSR", version u16 (4), kind u8 (1 snapshot, 2 delta, 3 takeover,
//            4 release, 5 layout), layout K u32, shard u32, epoch u64, sequence u64, base u64,
//            written_at_ms i64, owner (u16 length + UTF-8)
//   body     (snapshot, delta and layout only) alerts_raised u64; sensor count u32, then per sensor:
//            three ids (tag u8: 0 integer as a zigzag varint | 1 string of varint length +
//            UTF-8), kept u8 (below), running_stats raw state (count varint, then origin, mean,
//            m2, min, max, sum, sum_error, inverse_unit as f64, less those kept),
//            last_reading f64, last_timestamp (form u8: 0 text of u8 length + bytes | 1
//            `YYYY-MM-DDThh:mm:ss[.f]Z` as its seconds less written_at_ms's whole seconds
//            (rounded down, the difference wrapping at 2^64) as a zigzag varint, fraction digits
//            u8, fraction varint), consecutive warnings varint, alerts varint; message id count
//            u32, then each id's fingerprint (message_id_fingerprint) u64, oldest first.
//            Varints are LEB128 in their shortest form.
//
// Kept fields: a delta leaves out the fields of a sensor's running_stats that the delta does
// not change (bits of `kept`: 1 origin, 2 inverse_unit, 4 min, 8 max; the others are 0), and
// the state it builds on (its snapshot and the deltas before it) gives them: such a delta
// decodes only against that state (decode_checkpoint's `base`). They move rarely (origin and
// inverse_unit when the frame moves, min and max at a new extreme), so a delta's sensor is
// ~57 bytes instead of ~93. Snapshots and layout records keep nothing: they decode alone.
//
// Versions 1 to 3, which daemons before this one wrote, are still read. Version 3 is version 4
// without `kept` and with the timestamp's seconds whole. Version 2 has version 3's fields at
// fixed sizes (ids i64 or u32 length, count u64, the timestamp always as text, warnings and
// alerts u64). Version 1 also has no alerts field (0 is taken) and holds each message id's
// text (u16 length + bytes, at most 255) instead of its fingerprint; the decoder computes the
// fingerprints, so a shard restored from version 1 records recognises the same ids. Encoding
// always writes version 4 (a sensor of integer ids and a simulator timestamp: ~89 bytes whole,
// ~57 with origin, inverse_unit, min and max kept; 93 in version 3, 151 in version 2).
//
// The encoding is canonical: a record has exactly one byte form in each version (a varint in
// its shortest form, a timestamp of the compact form never as text), so decoding version 4
// bytes and encoding again gives the same bytes, a delta's kept fields written out whole.
// Every length is bounded (below) and checked against the bytes left before anything is
// allocated: decode takes any bytes and returns a record or a one-line error, never more
// memory than a small multiple of the input.
#pragma once

#include "telluride/domain/expected.hpp"
#include "telluride/state/shard_image.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telluride {

class sensor_table;

/// Bits of a delta's sensor's `kept` (version 4): the fields of its running_stats that the
/// state the delta builds on gives.
enum kept_field : std::uint8_t { kept_origin = 1, kept_inverse_unit = 2, kept_min = 4, kept_max = 8 };
inline constexpr std::uint8_t all_kept_fields = kept_origin | kept_inverse_unit | kept_min | kept_max;

enum class record_kind : std::uint8_t { snapshot = 1, delta = 2, takeover = 3, release = 4, layout = 5 };

/// "snapshot", "delta", "takeover", "release" or "layout": also the value of the AMQP header
/// `kind`.
std::string_view to_string(record_kind kind) noexcept;

/// Whether records of this kind carry a shard image (snapshot, delta and layout do; a layout
/// record's is the inherited state, empty in the stream's copy).
constexpr bool has_image(record_kind kind) noexcept {
  return kind == record_kind::snapshot || kind == record_kind::delta || kind == record_kind::layout;
}

struct record_header {
  record_kind kind = record_kind::snapshot;
  std::uint32_t layout = 1;       ///< the number of shards K of the deployment that wrote it
  std::uint32_t shard = 0;        ///< 0..K-1 (0 in a layout record, which is every shard's)
  std::uint64_t epoch = 0;        ///< the writer's owner epoch: +1 with every takeover
  std::uint64_t sequence = 0;     ///< per shard, +1 per record, continuing across owners
  std::uint64_t base = 0;         ///< the snapshot a delta builds on (a snapshot's own sequence)
  std::int64_t written_at_ms = 0; ///< the writer's clock, epoch milliseconds
  std::string owner;              ///< the writer's node name
};

struct checkpoint_record {
  record_header header;
  shard_image image;  ///< snapshot and delta; empty for takeover and release
};

/// The version encode writes; decode reads it and versions 3, 2 and 1.
inline constexpr std::uint16_t checkpoint_format_version = 4;
inline constexpr std::uint16_t checkpoint_format_v3 = 3;
inline constexpr std::uint16_t checkpoint_format_v2 = 2;
inline constexpr std::uint16_t checkpoint_format_v1 = 1;
inline constexpr std::uint32_t max_checkpoint_layout = 1024;    ///< shards: 1..1024
inline constexpr std::size_t max_owner_size = 255;              ///< bytes of a node name
inline constexpr std::size_t max_id_text_size = std::size_t{1} << 20;  ///< a string id (a reading is at most 1 MiB)
inline constexpr std::size_t max_message_id_size = 255;         ///< an AMQP short string (version 1's id texts)
/// Bytes of a header with an empty owner name.
inline constexpr std::size_t checkpoint_header_size = 4 + 2 + 1 + 4 + 4 + 8 + 8 + 8 + 8 + 2;

/// The record's bytes (version 4, every entry whole). An error (one line) when it breaks a rule
/// decode checks: layout 1..1024, shard below it (0 in a layout record), a snapshot's base its
/// own sequence and a delta's below it, an image only in snapshots, deltas and layout records,
/// owner and string ids UTF-8 within their bounds, fewer than 2^32 sensors and ids.
expected<std::string> encode_checkpoint(const checkpoint_record& record);

/// A record encoded part by part, for a writer that holds the state in another form than a
/// shard_image (shard_state::encode_image): the header, then exactly `sensors` sensors, then
/// ids(n) and n message id fingerprints. The bytes are those encode_checkpoint gives for the
/// same record; the first rule broken (as encode_checkpoint words it) comes out of finish().
class checkpoint_encoder {
public:

  checkpoint_encoder(const record_header& header, std::uint64_t alerts_raised, std::size_t sensors,
                     std::size_t size_hint = 0);
  /// The next sensor, less the fields of `kept` (a delta's only: those of the state it builds
  /// on, which the writer knows to be equal).
  void sensor(const sensor_aggregate& aggregate, std::uint64_t consecutive_warnings, std::uint64_t alerts,
              std::uint8_t kept = 0);
  void ids(std::size_t count);
  void id(std::uint64_t fingerprint);
  expected<std::string> finish() &&;

private:
  std::string bytes_;
  std::int64_t written_at_s_ = 0;  // the seconds timestamps are written relative to
  std::optional<std::string> problem_;
  std::size_t sensors_left_ = 0;
  std::size_t ids_left_ = 0;
  bool has_image_ = false;
  record_kind kind_ = record_kind::snapshot;
  bool has_ids_ = false;
};

/// The header alone, checked as decode_checkpoint checks it (the body is not read): enough to
/// skip a record of another shard, or one that a fence ignores, without decoding its state.
expected<record_header> decode_checkpoint_header(std::string_view bytes);

/// The record in `bytes` (version 4 to 1), or a one-line error naming the part and the byte
/// where it went wrong (`checkpoint record: truncated in sensor 4 of 10 (byte 531)`). A delta
/// whose sensors keep fields takes them from `base`, the state it builds on (the fold's), and
/// is an error without it or when `base` does not hold such a sensor.
expected<checkpoint_record> decode_checkpoint(std::string_view bytes, const sensor_table* base = nullptr);

} // namespace telluride
