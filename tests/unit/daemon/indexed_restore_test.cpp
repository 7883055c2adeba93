// A shard restored from its indexed snapshot (restore_indexed) on an in-memory stream: it reads
// only the snapshot and what follows, and restores what reading from the first record does;
// without an entry, or with one it cannot use (retention removed the snapshot, another record
// is at its offset, the stream ends before it, the records from it do not fold), it reads from
// the first record and says why.
#include "memory_stream.hpp"

#include "../state/record_writer.hpp"

#include "telluride/daemon/indexed_restore.hpp"
#include "telluride/domain/hash.hpp"
#include "telluride/state/snapshot_indexer.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace indexed_restore_test {

using namespace durable_test;
using state_test::record_writer;

namespace {

constexpr shard_identity one_shard{1, 0};

shard_image image_of(std::int64_t sensor, int readings) {
  shard_image image;
  image.sensors.push_back(state_test::record_of(state_test::key_of(sensor), readings));
  return image;
}

/// A stream written by node-a: its takeover, a snapshot, `deltas` deltas, a second snapshot
/// (at offset snapshot_at) and `after` deltas after it.
struct written_stream {
  memory_stream stream;
  std::size_t snapshot_at = 0;
  std::size_t first_snapshot_at = 0;

  written_stream(int deltas, int after) {
    record_writer a{1, 0, "node-a", 0};
    stream.append(a.takeover(0));
    first_snapshot_at = stream.records().size();
    stream.append(a.snapshot(image_of(1, 1)));
    for (int i = 0; i < deltas; ++i)
      stream.append(a.delta(image_of(2 + i % 3, 1 + i)));
    snapshot_at = stream.records().size();
    stream.append(a.snapshot(image_of(1, 50)));
    for (int i = 0; i < after; ++i)
      stream.append(a.delta(image_of(7 + i % 2, 1 + i)));
  }

  snapshot_index_entry entry_at(std::size_t offset) const {
    const auto records = stream.records();
    auto h = decode_checkpoint_header(records.at(offset));
    REQUIRE(h.has_value());
    return snapshot_index_entry{1, 0, static_cast<std::int64_t>(offset), h->sequence, h->epoch,
                                hash_bytes(records.at(offset)), h->owner};
  }

  record_source_opener opener() {
    return [this](std::optional<std::int64_t> from) -> expected<std::unique_ptr<record_source>> {
      opened.push_back(from);
      return std::unique_ptr<record_source>(std::make_unique<memory_reader>(stream, from));
    };
  }
  std::vector<std::optional<std::int64_t>> opened;

  /// Every aggregate's JSON of the state the whole stream restores (its first records up to
  /// `count`), the way a restore from the first record sees it.
  std::vector<std::string> whole_state(std::size_t count) const {
    auto records = stream.records();
    records.resize(count);
    auto r = restore_shard(one_shard, records, alert_rules{}, 64);
    REQUIRE(r.has_value());
    std::vector<std::string> out;
    for (std::uint32_t p = 0; p < r->state.table().size(); ++p)
      out.push_back(to_json_text(r->state.table().at(p)));
    return out;
  }
};

std::vector<std::string> json_of(const shard_state& state) {
  std::vector<std::string> out;
  for (std::uint32_t p = 0; p < state.table().size(); ++p)
    out.push_back(to_json_text(state.table().at(p)));
  return out;
}

const shard_restore_request request{one_shard, "node-b", alert_rules{}, 64};

expected<indexed_restore_result> restore(written_stream& w, const restore_start& start) {
  return restore_indexed(start, w.opener(), w.stream, request, restore_settings{});
}

} // namespace

TEST_CASE("a restore from the indexed snapshot reads only it and what follows, and restores the whole stream's state") {
  written_stream w{40, 5};
  const std::size_t before = w.stream.records().size();
  const auto want = w.whole_state(before);
  auto restored = restore(w, restore_start{w.entry_at(w.snapshot_at), {}});
  REQUIRE_MESSAGE(restored.has_value(), (restored ? std::string() : restored.err().message));
  CHECK(restored->started_at == std::optional<std::int64_t>{static_cast<std::int64_t>(w.snapshot_at)});
  CHECK(restored->fell_back.empty());
  // The snapshot, the 5 deltas after it, and the claim read back.
  CHECK(restored->records_read == 1 + 5 + 1);
  CHECK(w.opened == std::vector<std::optional<std::int64_t>>{static_cast<std::int64_t>(w.snapshot_at)});
  CHECK(json_of(restored->restored.state) == want);
  CHECK(restored->epoch == 2);
  CHECK(restored->restored.sequence == 1 + 1 + 40 + 1 + 5);  // the takeover follows the last delta
  CHECK(restored->restored.snapshot == std::optional<std::uint64_t>{1 + 1 + 40 + 1});
  CHECK(restored->restored.claim_offset == static_cast<std::int64_t>(before));
}

TEST_CASE("without an entry a restore reads from the first record and says why") {
  written_stream w{40, 5};
  const std::size_t before = w.stream.records().size();
  const auto want = w.whole_state(before);
  auto restored = restore(w, plan_restore_start(one_shard, std::optional<std::string>{}));
  REQUIRE(restored.has_value());
  CHECK_FALSE(restored->started_at.has_value());
  CHECK(restored->fell_back == "no snapshot is indexed yet");
  CHECK(restored->records_read == before + 1);
  CHECK(w.opened == std::vector<std::optional<std::int64_t>>{std::nullopt});
  CHECK(json_of(restored->restored.state) == want);
}

TEST_CASE("an entry whose snapshot retention removed, or that names another record, or that lies past the end, "
          "gives way to the first record") {
  SUBCASE("retention removed the indexed snapshot, and a later one is there") {
    written_stream w{10, 3};
    const auto entry = w.entry_at(w.first_snapshot_at);
    w.stream.drop_before(w.first_snapshot_at + 1);
    const std::size_t before = w.stream.records().size();
    auto restored = restore(w, restore_start{entry, {}});
    REQUIRE_MESSAGE(restored.has_value(), (restored ? std::string() : restored.err().message));
    CHECK(restored->fell_back == "the indexed snapshot 2 at offset 1 cannot be used: the stream now starts at offset 2, "
                                 "after the indexed snapshot at offset 1 (retention removed it)");
    CHECK_FALSE(restored->started_at.has_value());
    // From the first retained record: the deltas whose snapshot is gone, superseded by the
    // later snapshot, which the state is.
    CHECK(restored->records_read == before - 2 + 1);
    CHECK(restored->restored.counts.superseded == 1);
    CHECK(json_of(restored->restored.state) == w.whole_state(before));
  }
  SUBCASE("another record is at the offset (the stream was declared again)") {
    written_stream w{10, 3};
    auto entry = w.entry_at(w.snapshot_at);
    entry.record_hash ^= 1;
    auto restored = restore(w, restore_start{entry, {}});
    REQUIRE(restored.has_value());
    CHECK(restored->fell_back == "the indexed snapshot 13 at offset 12 cannot be used: the record at offset 12 is not "
                                 "the indexed snapshot 13 (the stream was declared again?)");
    CHECK(w.opened == std::vector<std::optional<std::int64_t>>{12, std::nullopt});
  }
  SUBCASE("the stream ends before the offset") {
    written_stream w{10, 3};
    auto entry = w.entry_at(w.snapshot_at);
    entry.offset = 1000;
    auto restored = restore(w, restore_start{entry, {}});
    REQUIRE(restored.has_value());
    CHECK(restored->fell_back == "the indexed snapshot 13 at offset 1000 cannot be used: nothing is at offset 1000 "
                                 "(the stream ends before it)");
    CHECK(restored->records_read == w.stream.records().size());  // all, its own claim included
  }
}

TEST_CASE("with two shards and three owners on one stream, a restore from an entry sees every later claim and "
          "release of its shard and restores what the first record does") {
  constexpr shard_identity shard_0{2, 0};
  record_writer a{2, 0, "node-a", 0};
  record_writer b{2, 1, "node-b", 0};
  record_writer c{2, 0, "node-c", 1};
  memory_stream stream;
  stream.append(a.takeover(0));                 // 0: shard 0, epoch 1, sequence 1
  stream.append(b.takeover(0));                 // 1: shard 1
  stream.append(a.snapshot(image_of(1, 1)));    // 2: a's snapshot 2 (indexed by a)
  stream.append(b.snapshot(image_of(50, 1)));   // 3
  stream.append(a.delta(image_of(2, 1)));       // 4: 3
  stream.append(b.delta(image_of(51, 1)));      // 5
  stream.append(a.release());                   // 6: 4, a hands shard 0 over
  stream.append(c.takeover(4));                 // 7: c claims with epoch 2, sequence 5
  stream.append(c.snapshot(image_of(1, 9)));    // 8: c's snapshot 6 (indexed by c)
  stream.append(b.delta(image_of(52, 1)));      // 9
  stream.append(c.delta(image_of(3, 1)));       // 10: 7

  // What each owner's follower offers, and what a restore from each entry reads.
  snapshot_indexer as_a{"node-a"};
  snapshot_indexer as_c{"node-c"};
  std::vector<snapshot_index_entry> entries;
  const auto records = stream.records();
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (auto e = as_a.read(static_cast<std::int64_t>(i), records[i]))
      entries.push_back(*e);
    if (auto e = as_c.read(static_cast<std::int64_t>(i), records[i]))
      entries.push_back(*e);
  }
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].offset == 2);
  CHECK(entries[1].offset == 8);

  auto whole = restore_shard(shard_0, records, alert_rules{}, 64);
  REQUIRE(whole.has_value());
  const std::size_t before = records.size();
  for (const auto& entry : entries) {
    CAPTURE(entry.offset);
    record_source_opener open = [&](std::optional<std::int64_t> from) -> expected<std::unique_ptr<record_source>> {
      return std::unique_ptr<record_source>(std::make_unique<memory_reader>(stream, from));
    };
    const shard_restore_request by_d{shard_0, "node-d", alert_rules{}, 64};
    auto restored = restore_indexed(restore_start{entry, {}}, open, stream, by_d, restore_settings{});
    REQUIRE_MESSAGE(restored.has_value(), (restored ? std::string() : restored.err().message));
    CHECK(restored->started_at == std::optional<std::int64_t>{entry.offset});
    // Every record from the entry on, of both shards, and the claim (each restore's claim
    // is one more record for the next).
    CHECK(restored->records_read == stream.records().size() - static_cast<std::size_t>(entry.offset));
    CHECK(json_of(restored->restored.state) == json_of(whole->state));
    CHECK(restored->restored.sequence == 7);
    CHECK(restored->restored.snapshot == std::optional<std::uint64_t>{6});
    // Shard 1's records from there on: 3, 5 and 9, or 9 alone.
    CHECK(restored->restored.counts.other_shards == (entry.offset == 2 ? 3u : 1u));
  }
  // Two claims by node-d: epochs 3 and 4, above c's.
  CHECK(stream.records().size() == before + 2);
  auto last = decode_checkpoint_header(stream.records().back());
  REQUIRE(last.has_value());
  CHECK(last->epoch == 4);
}

TEST_CASE("records after the indexed snapshot that do not fold from there are read again from the first record") {
  written_stream w{10, 3};
  // A publisher's retry: a copy of delta 3 lands after the second snapshot. From the first
  // record it is a copy (ignored); from the snapshot on, a repeated sequence with bytes never
  // read.
  w.stream.append(w.stream.records().at(2));
  const std::size_t before = w.stream.records().size();
  const auto want = w.whole_state(before);
  auto restored = restore(w, restore_start{w.entry_at(w.snapshot_at), {}});
  REQUIRE_MESSAGE(restored.has_value(), (restored ? std::string() : restored.err().message));
  CHECK(restored->fell_back == "the indexed snapshot 13 at offset 12 cannot be used: the records from it do not fold: "
                               "shard 0: delta 3 repeats a sequence already read (the last is 16) with other contents");
  CHECK_FALSE(restored->started_at.has_value());
  CHECK(json_of(restored->restored.state) == want);
  // The first attempt's claim (epoch 2) is in the stream; the second claims above it.
  CHECK(restored->epoch == 3);
  // First attempt: the snapshot, 3 deltas, the copy, its claim; then everything from the
  // first record, both claims included.
  CHECK(restored->records_read == (1 + 3 + 1 + 1) + (before + 2));
  CHECK(restored->restored.counts.duplicates == 1);
}

} // namespace indexed_restore_test
