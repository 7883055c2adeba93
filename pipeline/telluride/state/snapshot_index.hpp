// snapshot_index.hpp — where a shard's latest snapshot starts in the state stream, so that a
// restore reads that snapshot and the records after it instead of the whole stream
// (docs/checkpoints.md, Finding the latest snapshot).
//
// An entry names a snapshot record: its shard (layout and number), the stream offset it was
// delivered at, its sequence, epoch and owner, and a hash of its bytes. It is written only by
// the snapshot's owner, once it has read the snapshot back from the stream with its own claim
// still holding the shard (snapshot_indexer.hpp): reading the stream from that offset then
// folds exactly as reading it from the first record would. A restore checks that the record
// it finds at the offset is that snapshot, byte for byte (restore_start.hpp).
//
// Bytes, little-endian: magic "TLSI", version u16 (1), layout u32, shard u32, offset i64,
// sequence u64, epoch u64, record hash u64, owner (u16 length + UTF-8, at most 255 bytes).
// Canonical; decode takes any bytes and returns an entry or a one-line error.
#pragma once

#include "telluride/domain/expected.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace telluride {

struct snapshot_index_entry {
  std::uint32_t layout = 1;
  std::uint32_t shard = 0;
  std::int64_t offset = 0;         ///< the stream offset the snapshot was delivered at
  std::uint64_t sequence = 0;      ///< the snapshot's
  std::uint64_t epoch = 0;         ///< its owner's
  std::uint64_t record_hash = 0;   ///< hash_bytes of the snapshot record's bytes
  std::string owner;               ///< its owner's node name
  bool operator==(const snapshot_index_entry&) const = default;
};

inline constexpr std::uint16_t snapshot_index_version = 1;

/// The entry's bytes; an error (one line) when a field is out of its bounds (layout 1..1024,
/// shard below it, offset not negative, owner UTF-8 of at most 255 bytes).
expected<std::string> encode_index_entry(const snapshot_index_entry& entry);

/// The entry in `bytes`, or a one-line error naming the part (`snapshot index: truncated
/// (byte 12)`, `snapshot index: shard 4 is not below the layout 4`).
expected<snapshot_index_entry> decode_index_entry(std::string_view bytes);

} // namespace telluride
