// A checkpoint round over a tracker of K shard slots (K > 1): each chain writes its own shard's
// slot, shards this node holds no chain for write nothing, and a chain removed from the writer
// (a shard given up) is left out of the next round.
#include "memory_stream.hpp"

#include "telluride/daemon/checkpoint_round.hpp"
#include "telluride/state/checkpoint_fold.hpp"

#include <causeway/testing.hpp>

#include <doctest/doctest.h>

// Its own namespace: the unity build compiles several test files as one.
namespace sharded_round_test {

using namespace durable_test;

namespace {

/// The readings of `values`, all delivered on shard `shard`'s queue.
std::vector<sensor_tracker::input> on_shard(reading_store& store, std::uint32_t shard,
                                            const std::vector<std::pair<std::int64_t, double>>& values) {
  auto batch = store.batch(values);
  for (auto& r : batch)
    r.shard = shard;
  return batch;
}

} // namespace

TEST_CASE("a round over K shard slots writes one record per chain, from its own shard's slot") {
  auto tracker = std::make_shared<sensor_tracker>(4, sensor_tracker::routing::by_layout, alert_rules{}, 4 * 4096, 1000);
  causeway::ack_gate gate;
  memory_stream stream;
  std::vector<shard_chain> chains{shard_chain{shard_identity{4, 1}, "node-a", 2, 5},
                                  shard_chain{shard_identity{4, 3}, "node-a", 1, 0}};
  reading_store store;
  tracker->apply(on_shard(store, 1, {{1, 1.0}, {2, 2.0}}));
  tracker->apply(on_shard(store, 3, {{3, 3.0}}));
  tracker->apply(on_shard(store, 0, {{4, 4.0}}));  // held by no chain here

  auto outcome = run_checkpoint_round(gate, *tracker, chains, stream, std::chrono::seconds(1), 1764600000000);
  CHECK(outcome.ok);
  CHECK(outcome.snapshots == 2);
  CHECK(outcome.deltas == 0);
  const auto headers = stream.headers();
  REQUIRE(headers.size() == 2);
  CHECK(headers[0] == std::pair<std::uint32_t, record_kind>{1, record_kind::snapshot});
  CHECK(headers[1] == std::pair<std::uint32_t, record_kind>{3, record_kind::snapshot});
  CHECK(stream.kinds() == "snapshot 6/6 snapshot 1/1");  // shard 1 goes on after sequence 5

  auto one = restore_shard(shard_identity{4, 1}, stream.records(), alert_rules{}, tracker->id_capacity_per_shard());
  REQUIRE(one.has_value());
  CHECK(one->state.table().size() == 2);
  auto three = restore_shard(shard_identity{4, 3}, stream.records(), alert_rules{}, tracker->id_capacity_per_shard());
  REQUIRE(three.has_value());
  CHECK(three->state.table().size() == 1);

  // Shard 3 given up: the next round writes shard 1's change only.
  chains.pop_back();
  tracker->apply(on_shard(store, 1, {{1, 5.0}}));
  tracker->apply(on_shard(store, 3, {{3, 6.0}}));
  outcome = run_checkpoint_round(gate, *tracker, chains, stream, std::chrono::seconds(1), 1764600000100);
  CHECK(outcome.ok);
  CHECK(outcome.deltas == 1);
  CHECK(stream.headers().size() == 3);
  CHECK(stream.headers()[2] == std::pair<std::uint32_t, record_kind>{1, record_kind::delta});
}

} // namespace sharded_round_test
