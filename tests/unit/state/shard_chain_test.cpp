// The writer's side of a shard's records (shard_chain) and a new owner's claim (shard_claim):
// what they write folds, snapshots come when the policy says, a failed write is followed by a
// snapshot, a claim wins or loses as the stream orders it.
#include "record_writer.hpp"

#include "telluride/state/checkpoint_fold.hpp"
#include "telluride/state/shard_chain.hpp"
#include "telluride/state/shard_claim.hpp"

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_chain_test {

using namespace state_test;

namespace {

constexpr shard_identity one_shard{1, 0};

/// `prefix` followed by `n` (GCC 12 warns wrongly about "literal" + std::string&&).
std::string id_of(const char* prefix, std::int64_t n) {
  std::string out = prefix;
  out += std::to_string(n);
  return out;
}

/// An image with sensor id → number of readings (values 1..n).
shard_image image_of_sensors(const std::map<std::int64_t, int>& sensors) {
  shard_image image;
  for (const auto& [sensor, readings] : sensors)
    image.sensors.push_back(record_of(key_of(sensor), readings));
  return image;
}

/// A live shard and its chain, writing records as the checkpoint writer does.
struct live_shard {
  shard_state state{alert_rules{}, 64};
  shard_chain chain;
  batch_builder batches;
  std::vector<std::string> stream;  // what reached the broker
  std::int64_t clock = 1764600000000;

  explicit live_shard(shard_chain c) : chain(std::move(c)) {}

  void apply(std::int64_t sensor, double value, std::string id) {
    batches.add(key_of(sensor), value, std::move(id));
    state.apply(batches.take());
  }

  /// Writes the next record (if one is due or anything changed); `confirm` false: it fails.
  std::optional<record_header> write(bool confirm = true) {
    if (!state.has_changes() && !chain.is_due())
      return std::nullopt;
    checkpoint_record record;
    const bool snapshot = chain.wants_snapshot();
    record.header = chain.next(snapshot ? record_kind::snapshot : record_kind::delta, ++clock);
    record.image = snapshot ? state.take_snapshot() : state.take_delta();
    auto bytes = encode_checkpoint(record);
    REQUIRE(bytes.has_value());
    if (confirm) {
      chain.stream_grew(stream_meter::counted_bytes(bytes->size()));  // as a round counts it
      chain.confirmed(record.header, bytes->size());
      stream.push_back(std::move(*bytes));
    } else {
      chain.failed();
    }
    return record.header;
  }
};

std::string kinds(const std::vector<std::string>& stream) {
  std::string out;
  for (const auto& bytes : stream) {
    auto h = decode_checkpoint_header(bytes);
    REQUIRE(h.has_value());
    if (!out.empty())
      out += ' ';
    out += to_string(h->kind);
    out += ' ';
    out += std::to_string(h->sequence);
    out += '/';
    out += std::to_string(h->base);
  }
  return out;
}

} // namespace

TEST_CASE("a new owner's first record is a snapshot, even of nothing, and deltas follow on it") {
  live_shard s{shard_chain{one_shard, "node-a", 1, 0}};
  CHECK(s.chain.is_due());
  CHECK(s.chain.wants_snapshot());
  REQUIRE(s.write());  // nothing applied yet: an empty snapshot
  CHECK_FALSE(s.chain.is_due());
  CHECK_FALSE(s.write());  // nothing changed: nothing written
  s.apply(1, 5.0, "m1");
  s.apply(2, 6.0, "m2");
  REQUIRE(s.write());
  s.apply(1, 7.0, "m3");
  REQUIRE(s.write());
  CHECK(kinds(s.stream) == "snapshot 1/1 delta 2/1 delta 3/1");
  CHECK(s.chain.last_sequence() == 3);
  CHECK(s.chain.snapshot() == std::optional<std::uint64_t>{1});

  auto restored = restore_shard(one_shard, s.stream, alert_rules{}, 64);
  REQUIRE(restored.has_value());
  check_same_state(restored->state, s.state);
  CHECK(restored->sequence == 3);
}

TEST_CASE("after a failed write the next record is a snapshot, its sequence past the failed one's, and it folds") {
  live_shard s{shard_chain{one_shard, "node-a", 1, 0}};
  s.apply(1, 5.0, "m1");
  REQUIRE(s.write());  // snapshot 1
  s.apply(2, 6.0, "m2");
  auto lost = s.write(false);  // delta 2 never reached the stream (or did: nobody knows)
  REQUIRE(lost);
  CHECK(lost->kind == record_kind::delta);
  CHECK(s.chain.is_due());
  CHECK_FALSE(s.write(false) == std::nullopt);  // due even without changes: snapshot 3 fails too
  s.apply(3, 7.0, "m3");
  auto next = s.write();
  REQUIRE(next);
  CHECK(next->kind == record_kind::snapshot);
  CHECK(next->sequence == 4);
  CHECK(kinds(s.stream) == "snapshot 1/1 snapshot 4/4");
  auto restored = restore_shard(one_shard, s.stream, alert_rules{}, 64);
  REQUIRE(restored.has_value());
  check_same_state(restored->state, s.state);
  CHECK(restored->state.table().size() == 3);
}

TEST_CASE("a snapshot replaces the next delta after max_deltas deltas, or when the deltas outweigh the snapshot") {
  snapshot_policy by_count;
  by_count.max_deltas = 2;
  live_shard counted{shard_chain{one_shard, "node-a", 1, 0, by_count}};
  for (int round = 0; round < 7; ++round) {
    counted.apply(round % 3, round, id_of("c", round));
    REQUIRE(counted.write());
  }
  CHECK(kinds(counted.stream) == "snapshot 1/1 delta 2/1 delta 3/1 snapshot 4/4 delta 5/4 delta 6/4 snapshot 7/7");

  snapshot_policy by_bytes;
  by_bytes.min_stream_bytes = 0;
  by_bytes.delta_bytes_per_snapshot_byte = 1;
  live_shard weighed{shard_chain{one_shard, "node-a", 1, 0, by_bytes}};
  for (std::int64_t sensor = 0; sensor < 10; ++sensor)
    weighed.apply(sensor, 1.0, id_of("w", sensor));
  REQUIRE(weighed.write());  // a snapshot of 10 sensors
  for (int round = 0; round < 4; ++round) {
    // Each delta holds 4 of the 10 sensors: the third one passes the snapshot's size.
    for (std::int64_t sensor = 0; sensor < 4; ++sensor)
      weighed.apply(sensor, round, id_of("r", round * 100 + sensor));
    REQUIRE(weighed.write());
  }
  CHECK(kinds(weighed.stream) == "snapshot 1/1 delta 2/1 delta 3/1 delta 4/1 snapshot 5/5");
  auto restored = restore_shard(one_shard, weighed.stream, alert_rules{}, 64);
  REQUIRE(restored.has_value());
  check_same_state(restored->state, weighed.state);
}

TEST_CASE("deltas that outweigh the snapshot give way to one only once the stream grew by min_stream_bytes") {
  snapshot_policy policy;
  policy.delta_bytes_per_snapshot_byte = 1;
  policy.min_stream_bytes = 100'000;
  auto ten_sensors = [&] {
    live_shard s{shard_chain{one_shard, "node-a", 1, 0, policy}};
    for (std::int64_t sensor = 0; sensor < 10; ++sensor)
      s.apply(sensor, 1.0, id_of("w", sensor));
    REQUIRE(s.write());  // snapshot 1
    return s;
  };
  auto four_sensors = [](live_shard& s, int round) {
    for (std::int64_t sensor = 0; sensor < 4; ++sensor)
      s.apply(sensor, round, id_of("r", round * 100 + sensor));
    return s.write();
  };

  // Its own deltas outweigh the snapshot, but the stream is short: a restore reads little.
  live_shard alone = ten_sensors();
  for (int round = 0; round < 6; ++round)
    CHECK(four_sensors(alone, round)->kind == record_kind::delta);
  CHECK(alone.chain.stream_bytes_since_snapshot() < policy.min_stream_bytes);
  // Other shards' records (this writer's, or another daemon's) make the stream long.
  alone.chain.stream_grew(policy.min_stream_bytes);
  CHECK(four_sensors(alone, 6)->kind == record_kind::snapshot);
  CHECK(kinds(alone.stream) ==
        "snapshot 1/1 delta 2/1 delta 3/1 delta 4/1 delta 5/1 delta 6/1 delta 7/1 snapshot 8/8");

  // A long stream alone is not enough: the deltas must outweigh the snapshot too.
  live_shard among_many = ten_sensors();
  among_many.chain.stream_grew(policy.min_stream_bytes);
  CHECK(four_sensors(among_many, 0)->kind == record_kind::delta);
  CHECK(four_sensors(among_many, 1)->kind == record_kind::delta);

  for (const live_shard* s : {&alone, &among_many}) {
    auto restored = restore_shard(one_shard, s->stream, alert_rules{}, 64);
    REQUIRE(restored.has_value());
    check_same_state(restored->state, s->state);
  }
}

TEST_CASE("a snapshot is due once the stream grew by max_stream_bytes since the shard's snapshot, changed or not") {
  snapshot_policy policy;
  policy.max_stream_bytes = 1000;
  live_shard s{shard_chain{one_shard, "node-a", 1, 0, policy}};
  REQUIRE(s.write());
  CHECK_FALSE(s.chain.is_due());
  s.chain.stream_grew(999);  // other shards' records
  CHECK_FALSE(s.chain.is_due());
  s.chain.stream_grew(1);
  CHECK(s.chain.is_due());
  auto h = s.write();
  REQUIRE(h);
  CHECK(h->kind == record_kind::snapshot);
  CHECK_FALSE(s.chain.is_due());
}

TEST_CASE("with a stream meter, other writers' records count towards the retention rule too, added to this "
          "writer's") {
  snapshot_policy policy;
  policy.max_stream_bytes = 4000;
  auto meter = std::make_shared<stream_meter>();
  meter->add_record(10'000);  // before the chain watches: not counted
  live_shard s{shard_chain{one_shard, "node-a", 1, 0, policy}};
  s.chain.measure_stream_with(meter);
  REQUIRE(s.write());
  CHECK(s.chain.stream_bytes_since_snapshot() == 0);
  s.chain.stream_grew(100);  // this writer's own records
  meter->add_record(1000);   // another daemon's record: 1000 + the overhead
  CHECK(s.chain.stream_bytes_since_snapshot() == 100 + 1000 + stream_meter::record_overhead);
  CHECK_FALSE(s.chain.is_due());
  meter->add_record(4000 - 100 - 1000 - 2 * stream_meter::record_overhead);
  CHECK(s.chain.stream_bytes_since_snapshot() == 4000);
  CHECK(s.chain.is_due());
  auto h = s.write();
  REQUIRE(h);
  CHECK(h->kind == record_kind::snapshot);
  CHECK(s.chain.stream_bytes_since_snapshot() == 0);
  CHECK_FALSE(s.chain.is_due());
}

TEST_CASE("a claim takes the epoch above every epoch read and wins when it comes back holding the fence") {
  record_writer old_owner{1, 0, "node-old", 0};
  std::vector<std::string> stream;
  stream.push_back(old_owner.takeover(0));  // epoch 1, sequence 1
  stream.push_back(old_owner.snapshot(image_of_sensors({{1, 3}, {2, 4}})));
  stream.push_back(old_owner.delta(image_of_sensors({{1, 5}})));

  shard_claim claim{one_shard, "node-new", alert_rules{}, 64};
  CHECK(claim.state() == shard_claim::outcome::unclaimed);
  for (const auto& r : stream)
    claim.read(r);
  auto takeover = claim.claim(1764600000999);
  CHECK(claim.state() == shard_claim::outcome::waiting);
  CHECK(claim.epoch() == 2);
  CHECK(takeover.header.kind == record_kind::takeover);
  CHECK(takeover.header.epoch == 2);
  CHECK(takeover.header.sequence == 3);
  CHECK(takeover.header.base == 2);
  CHECK(takeover.header.owner == "node-new");
  auto bytes = encode_checkpoint(takeover);
  REQUIRE(bytes.has_value());
  claim.read(*bytes);
  CHECK(claim.state() == shard_claim::outcome::won);
  CHECK(claim.records_read() == 4);
  auto restored = std::move(claim).finish();
  REQUIRE(restored.has_value());
  CHECK(restored->sequence == 3);
  CHECK(restored->fence == std::optional<owner_fence>{owner_fence{2, "node-new"}});
  REQUIRE(restored->state.table().size() == 2);
  CHECK(restored->state.table().at(0).stats.count() == 5);
  CHECK(restored->state.table().at(1).stats.count() == 4);
  // The new owner's chain goes on after its takeover, and what it writes folds after it all.
  shard_chain next{one_shard, "node-new", 2, restored->sequence};
  CHECK(next.next(record_kind::snapshot, 1).sequence == 4);
}

TEST_CASE("on a fresh stream the first claim has epoch 1 and restores an empty shard") {
  shard_claim claim{one_shard, "node-a", alert_rules{}, 64};
  auto takeover = claim.claim(1);
  CHECK(takeover.header.epoch == 1);
  CHECK(takeover.header.sequence == 0);
  CHECK(takeover.header.base == 0);
  claim.read(*encode_checkpoint(takeover));
  CHECK(claim.state() == shard_claim::outcome::won);
  auto restored = std::move(claim).finish();
  REQUIRE(restored.has_value());
  CHECK(restored->state.table().size() == 0);
  CHECK(restored->sequence == 0);
}

TEST_CASE("a rival's claim of the same epoch read first makes the claim lose, and claiming again wins above it") {
  shard_claim claim{one_shard, "node-a", alert_rules{}, 64};
  auto mine = claim.claim(1);  // epoch 1
  record_writer rival{1, 0, "node-b", 0};
  claim.read(rival.takeover(0));  // node-b's epoch 1 reached the stream first
  CHECK(claim.state() == shard_claim::outcome::waiting);
  claim.read(*encode_checkpoint(mine));
  CHECK(claim.state() == shard_claim::outcome::lost);
  auto again = claim.claim(2);
  CHECK(again.header.epoch == 2);
  claim.read(*encode_checkpoint(again));
  CHECK(claim.state() == shard_claim::outcome::won);
  CHECK(std::move(claim).finish().has_value());
}

TEST_CASE("an earlier claim of the same node with the same epoch is not taken for the claim read back") {
  record_writer writer{1, 0, "node-w", 0};
  std::vector<std::string> stream;
  stream.push_back(writer.takeover(0));                           // epoch 1, sequence 1
  stream.push_back(writer.snapshot(image_of_sensors({{1, 1}})));  // 2
  stream.push_back(writer.delta(image_of_sensors({{2, 1}})));     // 3
  // node-a's previous process claimed epoch 2 after sequence 3 and wrote on.
  stream.push_back(*encode_checkpoint(takeover_record(one_shard, "node-a", 2, 3, 2, 100)));
  record_writer previous{1, 0, "node-a", 2};
  previous.continue_after(3, 2);
  stream.push_back(previous.snapshot(image_of_sensors({{1, 7}, {2, 7}})));  // 4
  stream.push_back(previous.delta(image_of_sensors({{3, 1}})));             // 5

  // node-a restarted read the first three records only (the broker paused longer than its
  // quiet time), so it claims epoch 2 as well; that claim lands after everything above.
  shard_claim claim{one_shard, "node-a", alert_rules{}, 64};
  for (std::size_t i = 0; i < 3; ++i)
    claim.read(stream[i]);
  auto mine = claim.claim(200);
  CHECK(mine.header.epoch == 2);
  for (std::size_t i = 3; i < stream.size(); ++i) {
    claim.read(stream[i]);
    CHECK(claim.state() == shard_claim::outcome::waiting);
  }
  claim.read(*encode_checkpoint(mine));
  CHECK(claim.state() == shard_claim::outcome::won);
  auto restored = std::move(claim).finish();
  REQUIRE(restored.has_value());
  CHECK(restored->state.table().size() == 3);  // the previous process's snapshot and delta
  CHECK(restored->sequence == 5);
}

TEST_CASE("a claim that did not win, or a stream whose records do not fold, finishes with one line naming the shard") {
  shard_claim unanswered{one_shard, "node-a", alert_rules{}, 64};
  (void)unanswered.claim(1);
  auto no = std::move(unanswered).finish();
  REQUIRE_FALSE(no.has_value());
  CHECK(no.err().message == "shard 0: the claim with epoch 1 did not win");

  record_writer owner{1, 0, "node-old", 0};
  shard_claim broken{one_shard, "node-a", alert_rules{}, 64};
  broken.read(owner.takeover(0));
  broken.read(owner.snapshot(image_of_sensors({{1, 1}})));
  (void)owner.delta(image_of_sensors({{1, 2}}));  // sequence 3 never reached the stream
  broken.read(owner.delta(image_of_sensors({{1, 3}})));
  broken.read(*encode_checkpoint(broken.claim(2)));
  CHECK(broken.state() == shard_claim::outcome::won);
  auto gap = std::move(broken).finish();
  REQUIRE_FALSE(gap.has_value());
  CHECK(gap.err().message == "shard 0: delta 4 follows 2: 3 is missing");
}

} // namespace shard_chain_test
