// The snapshot index (snapshot_index, snapshot_indexer, restore_start): an entry's bytes go
// there and back and bad bytes are one line; an owner indexes only its snapshots that hold the
// fence; reading from any offered entry folds exactly as reading from the first record; a
// restore plans from the entry and falls back to the first record for a named reason.
#include "record_writer.hpp"

#include "telluride/domain/hash.hpp"
#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/restore_start.hpp"
#include "telluride/state/snapshot_index.hpp"
#include "telluride/state/snapshot_indexer.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace snapshot_index_test {

using namespace state_test;

namespace {

constexpr shard_identity shard_0{2, 0};

shard_image image_of(std::int64_t sensor, int readings) {
  shard_image image;
  image.sensors.push_back(record_of(key_of(sensor), readings));
  return image;
}

const snapshot_index_entry sample{4, 3, 123456789, 57, 6, 0x0123456789abcdefULL, "node-a"};

/// What a fold of `records` from position `from` restores: everything a next owner uses.
struct folded {
  std::optional<owner_fence> fence;
  std::uint64_t sequence = 0;
  std::optional<std::uint64_t> snapshot;
  std::optional<std::string> problem;
  std::vector<std::string> sensors;  // each aggregate's JSON
};

folded fold_from(const std::vector<std::string>& records, std::size_t from) {
  checkpoint_fold fold{shard_0, alert_rules{}, 64};
  for (std::size_t i = from; i < records.size(); ++i)
    fold.read(records[i]);
  folded out{fold.fence(), fold.last_sequence(), fold.snapshot(), std::nullopt, {}};
  if (fold.problem())
    out.problem = fold.problem()->message;
  for (std::uint32_t p = 0; p < fold.state().table().size(); ++p)
    out.sensors.push_back(to_json_text(fold.state().table().at(p)));
  return out;
}

void check_same(const folded& a, const folded& b) {
  CHECK(a.fence == b.fence);
  CHECK(a.sequence == b.sequence);
  CHECK(a.snapshot == b.snapshot);
  CHECK(a.problem == b.problem);
  CHECK(a.sensors == b.sensors);
}

} // namespace

TEST_CASE("an index entry decodes to what was encoded, and bad bytes are one line naming the part") {
  auto bytes = encode_index_entry(sample);
  REQUIRE(bytes.has_value());
  CHECK(bytes->size() == 4 + 2 + 4 + 4 + 8 + 8 + 8 + 8 + 2 + 6);
  auto back = decode_index_entry(*bytes);
  REQUIRE(back.has_value());
  CHECK(*back == sample);

  CHECK(decode_index_entry("").err().message == "snapshot index: not an index entry (no TLSI magic)");
  CHECK(decode_index_entry(bytes->substr(0, 20)).err().message == "snapshot index: truncated (byte 14)");
  CHECK(decode_index_entry(*bytes + "x").err().message == "snapshot index: 1 bytes after the entry (byte 54)");
  std::string other_version = *bytes;
  other_version[4] = 2;
  CHECK(decode_index_entry(other_version).err().message == "snapshot index: version 2 is not 1");
  auto wrong_shard = sample;
  wrong_shard.shard = 4;
  CHECK(encode_index_entry(wrong_shard).err().message == "snapshot index: shard 4 is not below the layout 4");
  std::string shard_4 = *bytes;
  shard_4[10] = 4;  // the shard's low byte
  CHECK(decode_index_entry(shard_4).err().message == "snapshot index: shard 4 is not below the layout 4");
  auto negative = sample;
  negative.offset = -1;
  CHECK(encode_index_entry(negative).err().message == "snapshot index: offset -1 is negative");
  auto not_utf8 = sample;
  not_utf8.owner = "\xff";
  CHECK(encode_index_entry(not_utf8).err().message == "snapshot index: owner name is not UTF-8");
}

TEST_CASE("an owner indexes its own snapshots while they hold the fence, never a fenced one or a copy") {
  record_writer a{2, 0, "node-a", 0};
  record_writer b{2, 0, "node-b", 0};
  record_writer other{2, 1, "node-a", 0};
  std::vector<std::string> stream;
  stream.push_back(a.takeover(0));            // 0: a claims, epoch 1
  stream.push_back(a.snapshot(image_of(1, 1)));  // 1: a's snapshot 2
  stream.push_back(other.takeover(0));        // 2: shard 1
  stream.push_back(other.snapshot(image_of(5, 5)));  // 3: shard 1's snapshot
  stream.push_back(a.delta(image_of(2, 2)));     // 4
  stream.push_back(a.snapshot(image_of(1, 3)));  // 5: a's snapshot 4
  stream.push_back(stream[1]);                // 6: a copy of snapshot 2 (a publisher's retry)
  b.continue_after(4, 4);
  stream.push_back(b.takeover(4));            // 7: b claims with epoch 1 too: a's claim came first
  stream.push_back(a.snapshot(image_of(1, 4)));  // 8: a, fenced off by b's claim
  b.continue_after(5, 4);
  stream.push_back(b.snapshot(image_of(1, 9)));  // 9: b's snapshot 6

  snapshot_indexer as_a{"node-a"};
  snapshot_indexer as_b{"node-b"};
  std::vector<std::int64_t> offered_a;
  std::vector<std::int64_t> offered_b;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    if (auto e = as_a.read(static_cast<std::int64_t>(i), stream[i]))
      offered_a.push_back(e->offset);
    if (auto e = as_b.read(static_cast<std::int64_t>(i), stream[i])) {
      offered_b.push_back(e->offset);
      CHECK(e->layout == 2);
      CHECK(e->shard == 0);
      CHECK(e->sequence == 6);
      CHECK(e->owner == "node-b");
      CHECK(e->record_hash == hash_bytes(stream[i]));
    }
  }
  // b's takeover has epoch 1 like a's: it lost, so a's record 8 is not fenced by it.
  CHECK(as_a.fence(shard_0) == std::optional<owner_fence>{owner_fence{1, "node-a"}});
  CHECK(offered_a == std::vector<std::int64_t>{1, 3, 5, 8});
  CHECK(offered_b.empty());  // b's records are fenced: its claim lost
  CHECK(as_a.records_read() == 10);
}

TEST_CASE("an owner's delta after missing records of its own is a broken chain, named once") {
  record_writer a{2, 0, "node-a", 0};
  record_writer b{2, 0, "node-b", 1};
  std::vector<std::string> stream;
  stream.push_back(a.takeover(0));               // 0: sequence 1
  stream.push_back(a.snapshot(image_of(1, 1)));  // 1: snapshot 2
  stream.push_back(a.delta(image_of(2, 2)));     // 2: delta 3
  a.delta(image_of(2, 3));                       // delta 4, confirmed and yet not in the stream
  a.delta(image_of(2, 4));                       // delta 5, the same
  stream.push_back(a.delta(image_of(2, 5)));     // 3: delta 6 follows a gap: broken
  stream.push_back(a.delta(image_of(2, 6)));     // 4: delta 7 follows 6: nothing new
  a.snapshot(image_of(1, 7));                    // snapshot 8 missing
  stream.push_back(a.snapshot(image_of(1, 8)));  // 5: snapshot 9 after a gap heals, not a break
  a.delta(image_of(3, 1));                       // delta 10 failed
  stream.push_back(a.release());                 // 6: release 11 may follow a gap
  b.continue_after(11, 9);
  stream.push_back(b.takeover(11));              // 7: b takes the shard over (epoch 2, sequence 12)
  b.delta(image_of(4, 4));                       // b's delta 13 missing
  stream.push_back(b.delta(image_of(4, 5)));     // 8: b's delta 14: b's chain, not a's concern

  snapshot_indexer as_a{"node-a"};
  std::vector<std::pair<std::int64_t, chain_break>> breaks;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    as_a.read(static_cast<std::int64_t>(i), stream[i]);
    if (const auto& broken = as_a.last_break())
      breaks.emplace_back(static_cast<std::int64_t>(i), *broken);
  }
  REQUIRE(breaks.size() == 1);
  CHECK(breaks[0].first == 3);
  CHECK_FALSE(as_a.last_was_own());  // b's delta: another writer's
  as_a.read(9, stream[6]);
  CHECK(as_a.last_was_own());  // a's release
  as_a.read(10, "not a record");
  CHECK_FALSE(as_a.last_was_own());
  CHECK(breaks[0].second.shard.layout == 2);
  CHECK(breaks[0].second.shard.shard == 0);
  CHECK(breaks[0].second.first_missing == 4);
  CHECK(breaks[0].second.delta == 6);

  // Read from the middle (as a follower that starts at a later claim): the first record seen
  // of a shard is no break, whatever its sequence.
  snapshot_indexer late{"node-a"};
  late.read(3, stream[3]);
  CHECK_FALSE(late.last_break().has_value());
  late.read(4, stream[4]);
  CHECK_FALSE(late.last_break().has_value());
}

TEST_CASE("a snapshot written after another owner's newer claim is not indexed, and the new owner's is") {
  record_writer a{2, 0, "node-a", 0};
  record_writer b{2, 0, "node-b", 1};
  std::vector<std::string> stream;
  stream.push_back(a.takeover(0));               // 0: epoch 1
  stream.push_back(a.snapshot(image_of(1, 1)));  // 1: snapshot 2
  stream.push_back(a.delta(image_of(2, 1)));     // 2: delta 3
  b.continue_after(3, 2);
  stream.push_back(b.takeover(3));               // 3: epoch 2, sequence 4
  stream.push_back(a.snapshot(image_of(1, 7)));  // 4: a's zombie snapshot 4, epoch 1
  b.continue_after(4, 2);
  stream.push_back(b.snapshot(image_of(1, 2)));  // 5: b's snapshot 5
  stream.push_back(b.delta(image_of(3, 1)));     // 6

  snapshot_indexer as_a{"node-a"};
  snapshot_indexer as_b{"node-b"};
  std::vector<std::int64_t> offered;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    if (auto e = as_a.read(static_cast<std::int64_t>(i), stream[i]))
      offered.push_back(e->offset);
    if (auto e = as_b.read(static_cast<std::int64_t>(i), stream[i]))
      offered.push_back(e->offset);
  }
  CHECK(offered == std::vector<std::int64_t>{1, 5});
  CHECK(as_a.fence(shard_0) == std::optional<owner_fence>{owner_fence{2, "node-b"}});

  // Reading from each offered offset restores what reading from the first record does.
  const folded whole = fold_from(stream, 0);
  CHECK_FALSE(whole.problem.has_value());
  CHECK(whole.sensors.size() == 2);
  check_same(fold_from(stream, 5), whole);
  // From the snapshot at 1, the zombie's record is read in its place too, and fenced.
  check_same(fold_from(stream, 1), whole);
  // Reading from the zombie's snapshot would not (this is why it is not indexed): before b's
  // snapshot, the state is a's delta, and b holds the fence.
  const std::vector<std::string> before_b(stream.begin(), stream.begin() + 5);
  const folded then = fold_from(before_b, 0);
  CHECK(then.fence == std::optional<owner_fence>{owner_fence{2, "node-b"}});
  CHECK(then.sensors.size() == 2);
  const folded from_zombie = fold_from(before_b, 4);
  CHECK(from_zombie.fence == std::optional<owner_fence>{owner_fence{1, "node-a"}});
  CHECK(from_zombie.sensors.size() == 1);
}

TEST_CASE("a restore plans from the shard's entry, or from the first record for a named reason") {
  const shard_identity shard_3{4, 3};
  auto planned = plan_restore_start(shard_3, std::optional<std::string>{*encode_index_entry(sample)});
  REQUIRE(planned.entry.has_value());
  CHECK(*planned.entry == sample);
  CHECK(planned.why_first.empty());

  auto none = plan_restore_start(shard_3, std::optional<std::string>{});
  CHECK_FALSE(none.entry.has_value());
  CHECK(none.why_first == "no snapshot is indexed yet");

  auto unreadable = plan_restore_start(shard_3, error{"peek at queue \"s.index.4.3\": NOT_FOUND - no queue"});
  CHECK_FALSE(unreadable.entry.has_value());
  CHECK(unreadable.why_first == "the snapshot index cannot be read: peek at queue \"s.index.4.3\": NOT_FOUND - no queue");

  auto garbled = plan_restore_start(shard_3, std::optional<std::string>{"TLSI"});
  CHECK_FALSE(garbled.entry.has_value());
  CHECK(garbled.why_first == "snapshot index: truncated (byte 4)");

  auto elsewhere = plan_restore_start(shard_identity{4, 2}, std::optional<std::string>{*encode_index_entry(sample)});
  CHECK_FALSE(elsewhere.entry.has_value());
  CHECK(elsewhere.why_first == "the snapshot index names shard 3 of 4, not shard 2 of 4");
}

TEST_CASE("a restore uses the entry only when the record delivered first is the indexed snapshot") {
  record_writer a{4, 3, "node-a", 6};
  const std::string snapshot = a.snapshot(image_of(1, 3));
  auto entry = sample;
  entry.record_hash = hash_bytes(snapshot);

  CHECK_FALSE(check_indexed_start(entry, entry.offset, snapshot).has_value());
  CHECK(check_indexed_start(entry, entry.offset + 100, snapshot) ==
        std::optional<std::string>{"the stream now starts at offset 123456889, after the indexed snapshot at offset "
                                   "123456789 (retention removed it)"});
  CHECK(check_indexed_start(entry, entry.offset - 1, snapshot) ==
        std::optional<std::string>{"the stream delivered offset 123456788 when asked for offset 123456789"});
  CHECK(check_indexed_start(entry, entry.offset, a.delta(image_of(2, 1))) ==
        std::optional<std::string>{"the record at offset 123456789 is not the indexed snapshot 57 (the stream was "
                                   "declared again?)"});
}

} // namespace snapshot_index_test
