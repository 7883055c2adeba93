// Restoring a shard from its records: the latest snapshot and the deltas after it, the fence,
// takeovers and releases, and every problem named.
#include "record_writer.hpp"

#include "telluride/state/checkpoint_fold.hpp"

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace state_test;

namespace {

constexpr std::uint32_t layout = 4;
constexpr std::uint32_t shard = 2;

/// An image with sensor id → number of readings (values 1..n).
shard_image image_of(std::map<std::int64_t, int> sensors) {
  shard_image image;
  for (const auto& [sensor, readings] : sensors)
    image.sensors.push_back(record_of(key_of(sensor), readings));
  return image;
}

std::map<std::int64_t, std::uint64_t> counts_by_sensor(const shard_state& state) {
  std::map<std::int64_t, std::uint64_t> out;
  for (std::uint32_t p = 0; p < state.table().size(); ++p)
    out[state.table().at(p).key.key().sensor_id.integer()] = state.table().at(p).stats.count();
  return out;
}

std::string cut(std::string bytes, std::size_t shorter_by) {
  bytes.resize(bytes.size() - shorter_by);
  return bytes;
}

struct restored_expectation {
  std::uint64_t sequence = 0;
  std::optional<std::uint64_t> snapshot;
  std::optional<owner_fence> fence;
  bool is_released = false;
  fold_counts counts;
  std::map<std::int64_t, std::uint64_t> sensors;
};

struct fold_case {
  std::string name;
  std::vector<std::string> records;
  std::string error;  // empty: the shard restores as `restored` says
  restored_expectation restored;
};

fold_counts counts(std::uint64_t applied, std::uint64_t fenced = 0, std::uint64_t duplicates = 0,
                   std::uint64_t other_shards = 0, std::uint64_t superseded = 0) {
  return fold_counts{applied, fenced, duplicates, other_shards, superseded};
}

std::vector<fold_case> cases() {
  std::vector<fold_case> out;
  {
    out.push_back({"no records: an empty shard and no fence", {}, "", {0, std::nullopt, std::nullopt, false, counts(0), {}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    out.push_back({"a snapshot and the deltas after it",
                   {a.snapshot(image_of({{1, 2}})), a.delta(image_of({{1, 3}})), a.delta(image_of({{2, 1}}))}, "",
                   {3, 1, owner_fence{1, "a"}, false, counts(3), {{1, 3}, {2, 1}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    out.push_back({"the latest snapshot replaces what came before it",
                   {a.snapshot(image_of({{1, 1}})), a.delta(image_of({{2, 1}})), a.snapshot(image_of({{3, 5}})),
                    a.delta(image_of({{3, 6}}))},
                   "", {4, 3, owner_fence{1, "a"}, false, counts(4), {{3, 6}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    a.continue_after(4, 4);  // retention cut snapshot 4 off
    out.push_back({"deltas whose snapshot retention cut off are superseded by the next snapshot",
                   {a.delta(image_of({{1, 5}})), a.delta(image_of({{1, 6}})), a.snapshot(image_of({{1, 7}})),
                    a.delta(image_of({{2, 1}}))},
                   "", {8, 7, owner_fence{1, "a"}, false, counts(2, 0, 0, 0, 1), {{1, 7}, {2, 1}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    std::vector<std::string> records{a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}}))};
    a.delta(image_of({{1, 3}}));  // lost
    records.push_back(a.delta(image_of({{1, 4}})));
    out.push_back({"a gap in sequences is an error naming the shard and the sequences missing", records,
                   "shard 2: delta 4 follows 2: 3 is missing", {}});
    records.push_back(a.snapshot(image_of({{9, 1}})));
    out.push_back({"a gap before a later snapshot is superseded by it", records, "",
                   {5, 5, owner_fence{1, "a"}, false, counts(3, 0, 0, 0, 1), {{9, 1}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    record_writer wrong{layout, shard, "a", 1};
    wrong.continue_after(2, 2);
    out.push_back({"a delta on a snapshot other than the one in use is an error",
                   {a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}})), wrong.delta(image_of({{1, 3}}))},
                   "shard 2: delta 3 builds on snapshot 2, but the snapshot in use is 1", {}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    out.push_back({"bytes that do not decode are an error naming the sequence before them",
                   {a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}})), "garbage"},
                   "shard 2: the record after sequence 2 does not decode: checkpoint record: too short for a header: "
                   "7 bytes (at least 49)",
                   {}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    out.push_back({"a delta whose body does not decode is an error naming it",
                   {a.snapshot(image_of({{1, 1}})), cut(a.delta(image_of({{1, 2}})), 1)},
                   "shard 2: delta 2 does not decode: checkpoint record: truncated before the message ids (byte 152)", {}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    out.push_back({"a snapshot that does not decode breaks the chain it starts",
                   {a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}})), cut(a.snapshot(image_of({{3, 5}})), 1),
                    a.delta(image_of({{3, 6}}))},
                   "shard 2: snapshot 3 does not decode: checkpoint record: truncated before the message ids (byte 152)", {}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    record_writer b{layout, shard, "b", 1};
    std::vector<std::string> records{a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}})), b.takeover(2)};
    records.push_back(a.delta(image_of({{1, 99}})));  // the zombie: sequence 3, epoch 1
    b.continue_after(3, 1);
    records.push_back(b.delta(image_of({{2, 1}})));
    out.push_back({"a zombie's delta after a takeover is ignored", records, "",
                   {4, 1, owner_fence{2, "b"}, false, counts(4, 1), {{1, 2}, {2, 1}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    record_writer b{layout, shard, "b", 1};
    std::vector<std::string> records{a.snapshot(image_of({{1, 1}})), b.takeover(1), a.snapshot(image_of({{1, 50}}))};
    b.continue_after(2, 1);
    records.push_back(b.delta(image_of({{1, 2}})));
    out.push_back({"a zombie's snapshot after a takeover is ignored", records, "",
                   {3, 1, owner_fence{2, "b"}, false, counts(3, 1), {{1, 2}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    record_writer b{layout, shard, "b", 1};
    std::vector<std::string> records{a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}}))};
    records.push_back(b.takeover(1));  // b had read up to 1 when it wrote sequence 2
    b.continue_after(2, 1);            // then caught up with a's delta 2
    records.push_back(b.delta(image_of({{2, 1}})));
    out.push_back({"a takeover may repeat the sequence of a record its owner had not read yet", records, "",
                   {3, 1, owner_fence{2, "b"}, false, counts(4), {{1, 2}, {2, 1}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    record_writer b{layout, shard, "b", 1};
    record_writer c{layout, shard, "c", 1};
    std::vector<std::string> records{a.snapshot(image_of({{1, 1}})), b.takeover(1), c.takeover(1)};
    c.continue_after(2, 1);
    records.push_back(c.delta(image_of({{5, 1}})));
    b.continue_after(2, 1);
    records.push_back(b.delta(image_of({{6, 1}})));
    out.push_back({"of two takeovers of one epoch the first in the stream wins", records, "",
                   {3, 1, owner_fence{2, "b"}, false, counts(3, 2), {{1, 1}, {6, 1}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    const std::string s1 = a.snapshot(image_of({{1, 1}}));
    const std::string d2 = a.delta(image_of({{1, 2}}));
    const std::string d3 = a.delta(image_of({{2, 1}}));
    record_writer b{layout, shard, "b", 1};
    const std::string t4 = b.takeover(3);
    out.push_back({"a record published twice is read once", {s1, d2, d2, d3, d2, d3, s1, t4, t4}, "",
                   {4, 1, owner_fence{2, "b"}, false, counts(4, 0, 5), {{1, 2}, {2, 1}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    record_writer again{layout, shard, "a", 1};
    again.continue_after(1, 1);
    out.push_back({"a record that repeats a sequence with other contents is an error",
                   {a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}})), again.delta(image_of({{1, 5}}))},
                   "shard 2: delta 2 repeats a sequence already read (the last is 2) with other contents", {}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    std::vector<std::string> records{a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}})), a.release()};
    out.push_back({"a release marks the shard released", records, "",
                   {3, 1, owner_fence{1, "a"}, true, counts(3), {{1, 2}}}});
    record_writer b{layout, shard, "b", 1};
    records.push_back(b.takeover(3));
    out.push_back({"a takeover after a release holds the shard again", records, "",
                   {4, 1, owner_fence{2, "b"}, false, counts(4), {{1, 2}}}});
  }
  {
    // Sequences 3 and 4 were taken by writes that failed (a broker restart), then the owner
    // gave the shard up: the state is what the records in the stream hold.
    record_writer a{layout, shard, "a", 1};
    std::vector<std::string> records{a.snapshot(image_of({{1, 1}})), a.delta(image_of({{1, 2}}))};
    a.continue_after(4, 1);
    records.push_back(a.release());
    out.push_back({"a release may follow writes that failed: the state is the last record's", records, "",
                   {5, 1, owner_fence{1, "a"}, true, counts(3), {{1, 2}}}});
    record_writer b{layout, shard, "b", 1};
    records.push_back(b.takeover(5));
    b.continue_after(6, 0);
    records.push_back(b.snapshot(image_of({{1, 3}})));
    out.push_back({"the next owner goes on after such a release", records, "",
                   {7, 7, owner_fence{2, "b"}, false, counts(5), {{1, 3}}}});
  }
  {
    // Anything but a release after missing records stays a problem.
    record_writer a{layout, shard, "a", 1};
    std::vector<std::string> records{a.snapshot(image_of({{1, 1}}))};
    a.continue_after(3, 1);
    records.push_back(a.delta(image_of({{1, 2}})));
    records.push_back(a.release());
    out.push_back({"a delta after missing records is an error even when a release follows", records,
                   "shard 2: delta 4 follows 1: 2..3 are missing", {}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    record_writer other_shard{layout, 1, "a", 1};
    record_writer other_layout{8, shard, "a", 1};
    out.push_back({"records of other shards and layouts are ignored",
                   {a.snapshot(image_of({{1, 1}})), other_shard.snapshot(image_of({{7, 1}})),
                    other_layout.snapshot(image_of({{8, 1}})), a.delta(image_of({{1, 2}}))},
                   "", {2, 1, owner_fence{1, "a"}, false, counts(2, 0, 0, 2), {{1, 2}}}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    a.continue_after(4, 4);
    out.push_back({"deltas with no snapshot read and none after them are an error",
                   {a.delta(image_of({{1, 5}})), a.delta(image_of({{1, 6}}))},
                   "shard 2: delta 5 builds on snapshot 4, which was not read", {}});
  }
  {
    record_writer a{layout, shard, "a", 1};
    record_writer b{layout, shard, "b", 1};
    out.push_back({"a takeover that skips sequences is an error", {a.snapshot(image_of({{1, 1}})), b.takeover(3)},
                   "shard 2: takeover 4 follows 1: 2..3 are missing", {}});
  }
  return out;
}

} // namespace

TEST_CASE("a shard is restored from its records as the fold rules say") {
  for (const fold_case& c : cases()) {
    CAPTURE(c.name);
    const auto result = restore_shard(shard_identity{layout, shard}, c.records, alert_rules{}, 64);
    if (!c.error.empty()) {
      REQUIRE_FALSE(result.has_value());
      CHECK(result.err().message == c.error);
      continue;
    }
    REQUIRE_MESSAGE(result.has_value(), (result ? std::string() : result.err().message));
    const restored_expectation& e = c.restored;
    CHECK(result->sequence == e.sequence);
    CHECK(result->snapshot == e.snapshot);
    CHECK(result->fence == e.fence);
    CHECK(result->is_released == e.is_released);
    CHECK(result->counts.applied == e.counts.applied);
    CHECK(result->counts.fenced == e.counts.fenced);
    CHECK(result->counts.duplicates == e.counts.duplicates);
    CHECK(result->counts.other_shards == e.counts.other_shards);
    CHECK(result->counts.superseded == e.counts.superseded);
    CHECK(counts_by_sensor(result->state) == e.sensors);
  }
}

TEST_CASE("a problem stops deltas from being applied, and the fold says so while it reads") {
  record_writer a{layout, shard, "a", 1};
  checkpoint_fold fold{shard_identity{layout, shard}, alert_rules{}, 64};
  fold.read(a.snapshot(image_of({{1, 1}})));
  a.delta(image_of({{1, 2}}));  // lost
  fold.read(a.delta(image_of({{1, 3}})));
  REQUIRE(fold.problem().has_value());
  CHECK(fold.problem()->message == "shard 2: delta 3 follows 1: 2 is missing");
  fold.read(a.delta(image_of({{1, 4}})));
  CHECK(counts_by_sensor(fold.state()) == std::map<std::int64_t, std::uint64_t>{{1, 1}});
  CHECK(fold.problem()->message == "shard 2: delta 3 follows 1: 2 is missing");  // the first stays
  fold.read(a.snapshot(image_of({{1, 5}})));
  CHECK_FALSE(fold.problem().has_value());
  CHECK(fold.fence() == owner_fence{1, "a"});
  const auto restored = std::move(fold).finish();
  REQUIRE(restored.has_value());
  CHECK(restored->counts.superseded == 1);
  CHECK(counts_by_sensor(restored->state) == std::map<std::int64_t, std::uint64_t>{{1, 5}});
}
