// shared_stats_layout.hpp — the bytes of a /telluride-<pid> object, and its seqlock.
//
// A segment is a fixed header followed by the record as 64-bit words. `magic` is stored last
// when the writer created the segment (release), so a reader that sees it sees the rest of the
// header. `sequence` is the seqlock: the writer makes it odd, stores the words, makes it even
// again; a reader copies the words between two loads of an even, unchanged sequence, else the
// copy may be torn and it tries again. Every shared word is accessed atomically (relaxed, with
// fences), so there is no data race even while a copy is torn. Readers map the segment
// read-only; they check `layout_version` and `record_size` before reading a record.
#pragma once

#include "telluride/stats/shared_stats.hpp"

#include <cstddef>
#include <cstdint>

namespace telluride::detail {

inline constexpr std::uint32_t shared_stats_magic = 0x44524c54;  // "TLRD"
inline constexpr std::uint32_t shared_stats_layout_version = 1;
inline constexpr std::size_t shared_stats_words = (sizeof(shared_stats_record) + 7) / 8;

struct shared_stats_segment {
  std::uint32_t magic;           ///< shared_stats_magic once initialised
  std::uint32_t layout_version;  ///< shared_stats_layout_version
  std::int32_t pid;              ///< the writer's process
  std::uint32_t record_size;     ///< sizeof(shared_stats_record) of the writer
  std::uint64_t sequence;        ///< seqlock: odd while a write is in progress
  std::uint64_t words[shared_stats_words];
};

/// Fills a fresh segment's header (sequence 0, zero record) and stores the magic last.
void initialise_segment(shared_stats_segment& segment, std::int32_t pid) noexcept;

/// One seqlock write. A single writer at a time.
void seqlock_write(shared_stats_segment& segment, const shared_stats_record& record) noexcept;

/// One read attempt: false when a write was in progress or happened meanwhile (torn).
bool seqlock_try_read(const shared_stats_segment& segment, shared_stats_record& out) noexcept;

/// Retries a torn read up to `attempts` times (yielding between tries); false if it never got
/// a consistent copy (a writer stopped mid-write).
bool seqlock_read(const shared_stats_segment& segment, shared_stats_record& out, int attempts = 10000) noexcept;

/// The header check readers do before trusting a segment: magic, version and record size.
bool is_readable_segment(const shared_stats_segment& segment) noexcept;

} // namespace telluride::detail
