// The claim the checkpoints exist for: a shard restored from its snapshot and the deltas after
// it, through their bytes, is the live shard: the same aggregates bit for bit, the same next
// alerts, the same duplicates recognised. Records written from images (whole sensors) and
// straight from the state (as the daemon writes them: deltas keep the fields that did not move).
#include "record_writer.hpp"

#include "telluride/state/checkpoint_fold.hpp"

#include <doctest/doctest.h>

#include <cfloat>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace state_test;

namespace {

constexpr std::size_t id_capacity = 64;

alert_rules rules() {
  alert_rules out;
  out.thresholds = {{"default", 100.0}};
  out.alert_after = 3;
  return out;
}

sensor_key sensor(int n) {
  return n % 3 == 0 ? string_key_of(n) : key_of(n);
}

/// A day in the life of a shard: 60 sensors (a third with string ids) drifting around the
/// threshold, with extremes, and redeliveries of recent and of long-forgotten message ids.
class workload {
public:
  void next_batch(batch_builder& batch) {
    for (int i = 0; i < 50; ++i) {
      const int n = pick_sensor_(rng_);
      double value = 95 + 10 * unit_(rng_);
      const int roll = pick_extreme_(rng_);
      if (roll == 0)
        value = 1e308;
      else if (roll == 1)
        value = -1e308;
      else if (roll == 2)
        value = DBL_MAX;
      else if (roll == 3)
        value = 4.9e-324;
      std::string id = "m-" + std::to_string(next_id_++);
      if (next_id_ % 7 == 0)
        id = "m-" + std::to_string(next_id_ - 1 - pick_back_(rng_));  // a redelivery, maybe forgotten
      batch.add(sensor(n), value, id, "2026-11-22T10:" + std::to_string(10 + i) + ":00Z");
    }
  }

private:
  std::mt19937_64 rng_{20261122};
  std::uniform_int_distribution<int> pick_sensor_{1, 60};
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  std::uniform_int_distribution<int> pick_extreme_{0, 99};
  std::uniform_int_distribution<int> pick_back_{1, 200};
  int next_id_ = 0;
};

struct outcome_summary {
  std::uint64_t applied;
  std::uint64_t duplicates;
  std::vector<std::string> alerts;
  bool operator==(const outcome_summary&) const = default;
};

outcome_summary summary(const shard_state::outcome& out) {
  outcome_summary s{out.applied, out.duplicates, {}};
  for (const alert& a : out.alerts)
    s.alerts.push_back(to_json_text(a));
  return s;
}

} // namespace

/// Runs the day, checkpointing from images or (`straight`) with encode_image, and restores.
void check_restore_equals_live(bool straight) {
  shard_state live{rules(), id_capacity};
  record_writer owner{1, 0, "node-a", 1};
  workload readings;
  batch_builder batch;
  auto snapshot = [&] { return straight ? owner.snapshot_of(live) : owner.snapshot(live.take_snapshot()); };
  auto delta = [&] { return straight ? owner.delta_of(live) : owner.delta(live.take_delta()); };
  std::vector<std::string> stream{snapshot()};  // a new shard starts empty
  std::size_t stream_bytes = stream.front().size();
  std::size_t second_snapshot_at = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t alerts = 0;
  for (int round = 1; round <= 40; ++round) {
    readings.next_batch(batch);
    const auto out = live.apply(batch.take());
    duplicates += out.duplicates;
    alerts += out.alerts.size();
    if (round == 25) {
      second_snapshot_at = stream.size();
      stream.push_back(snapshot());
    } else {
      REQUIRE(live.has_changes());
      stream.push_back(delta());
    }
    stream_bytes += stream.back().size();
  }
  // Written straight, the deltas are smaller: some of their sensors keep fields.
  CHECK(stream_bytes == (straight ? 109776 : 146936));
  // The workload reaches what the test is about.
  REQUIRE(duplicates > 20);
  REQUIRE(alerts > 5);
  REQUIRE(live.message_ids().size() == id_capacity);
  REQUIRE(live.alerts().sensors_above() > 0);

  // From the start of the stream, and from the second snapshot only (retention cut the rest).
  const std::vector<std::string> tail(stream.begin() + static_cast<long>(second_snapshot_at), stream.end());
  for (const std::vector<std::string>* records : {&std::as_const(stream), &tail}) {
    CAPTURE(records->size());
    auto restored = restore_shard(shard_identity{1, 0}, *records, rules(), id_capacity);
    REQUIRE_MESSAGE(restored.has_value(), (restored ? std::string() : restored.err().message));
    CHECK(restored->sequence == stream.size());
    CHECK(restored->counts.applied == records->size());
    check_same_state(restored->state, live);

    // The next readings: the same outcome on both, alerts and duplicates included.
    shard_state live_copy = live;
    for (int round = 0; round < 3; ++round) {
      readings.next_batch(batch);
      batch.add(sensor(1), 150, "m-again-" + std::to_string(round)).add(sensor(2), 150).add(sensor(3), 150);
      const auto next = batch.take();
      CHECK(summary(restored->state.apply(next)) == summary(live_copy.apply(next)));
    }
    check_same_state(restored->state, live_copy);
  }
}

TEST_CASE("a shard restored from its snapshot and deltas is the live shard, and goes on as it would") {
  check_restore_equals_live(false);
}

TEST_CASE("a shard restored from the records its state encoded straight is the live shard too") {
  check_restore_equals_live(true);
}
