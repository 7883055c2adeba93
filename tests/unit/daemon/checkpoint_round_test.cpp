// Durable mode's checkpoint rounds without a broker: acknowledgements are let through only once
// the records holding their effect are confirmed; a refused or unanswered round lets nothing
// through and is followed by a snapshot; what the rounds write restores the live state; the
// writer's thread runs rounds on time, early when the gate fills, and on flush, and reports
// failing checkpoints in part_health.
#include "memory_stream.hpp"

#include "telluride/daemon/checkpoint_writer.hpp"
#include "telluride/daemon/durable_state.hpp"
#include "telluride/daemon/state_restore.hpp"
#include "telluride/state/checkpoint_fold.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

// Its own namespace: the unity build compiles several test files as one.
namespace checkpoint_round_test {

using namespace durable_test;
using namespace std::chrono_literals;
using causeway::testing::recording_acknowledger;

namespace {

constexpr shard_identity one_shard{1, 0};

struct durable_fixture {
  std::shared_ptr<sensor_tracker> tracker = std::make_shared<sensor_tracker>(1, alert_rules{}, 4096, 1000);
  std::shared_ptr<causeway::ack_gate> gate = std::make_shared<causeway::ack_gate>();
  std::shared_ptr<recording_acknowledger> channel = std::make_shared<recording_acknowledger>();
  std::shared_ptr<causeway::acknowledger> through = gate->wrap(channel);
  std::shared_ptr<memory_stream> stream = std::make_shared<memory_stream>();
  std::vector<shard_chain> chains{shard_chain{one_shard, "node-a", 1, 0}};
  reading_store store;
  std::uint64_t next_tag = 1;

  /// Applies readings as a batch processor does, then acknowledges them (into the gate).
  void handle(const std::vector<std::pair<std::int64_t, double>>& values) {
    tracker->apply(store.batch(values));
    acknowledge_tags(through, next_tag, values.size());
    next_tag += values.size();
  }

  /// A writer of this fixture's chains over its gate, tracker and stream, reporting to `health`.
  std::unique_ptr<checkpoint_writer> writer(const checkpoint_writer_options& options) {
    return std::make_unique<checkpoint_writer>(options, gate, tracker, std::move(chains), stream, health);
  }
  std::shared_ptr<part_health> health = std::make_shared<part_health>();

  round_outcome round(std::chrono::milliseconds timeout = 1s) {
    return run_checkpoint_round(*gate, *tracker, chains, *stream, timeout, 1764600000000);
  }

  /// The shard restored from what the stream holds.
  shard_state restored() {
    auto r = restore_shard(one_shard, stream->records(), alert_rules{}, tracker->id_capacity_per_shard());
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.err().message));
    return std::move(r->state);
  }

  /// The live shard's aggregates as JSON, in order.
  std::vector<std::string> live_json() {
    std::vector<std::string> out;
    tracker->with_shard(0, [&](shard_state& s) {
      for (std::uint32_t p = 0; p < s.table().size(); ++p)
        out.push_back(to_json_text(s.table().at(p)));
    });
    return out;
  }
};

template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

std::vector<std::string> json_of(const shard_state& s) {
  std::vector<std::string> out;
  for (std::uint32_t p = 0; p < s.table().size(); ++p)
    out.push_back(to_json_text(s.table().at(p)));
  return out;
}

} // namespace

TEST_CASE("a round lets the held acknowledgements through once the broker confirmed the state holding their effect") {
  durable_fixture f;
  f.handle({{1, 10.0}, {2, 20.0}, {1, 11.0}});
  CHECK(f.channel->count() == 0);
  CHECK(f.gate->held() == 3);

  auto first = f.round();
  CHECK(first.ok);
  CHECK(first.snapshots == 1);
  CHECK(first.deltas == 0);
  CHECK(first.released == 3);
  CHECK(f.channel->count() == 3);
  CHECK(first.bytes == f.stream->records().at(0).size());
  CHECK(f.stream->headers() == std::vector<std::pair<std::uint32_t, record_kind>>{{0, record_kind::snapshot}});

  f.handle({{2, 21.0}});
  auto second = f.round();
  CHECK(second.ok);
  CHECK(second.deltas == 1);
  CHECK(second.released == 1);
  CHECK(f.channel->count() == 4);
  CHECK(f.stream->kinds() == "snapshot 1/1 delta 2/1");
  CHECK(json_of(f.restored()) == f.live_json());
}

TEST_CASE("a round with nothing changed writes nothing and still lets through what it holds") {
  durable_fixture f;
  REQUIRE(f.round().ok);  // the first owner's (empty) snapshot
  CHECK(f.stream->kinds() == "snapshot 1/1");
  // Acknowledgements of readings that changed nothing (duplicates, dead-lettered ones).
  acknowledge_tags(f.through, 1, 2);
  auto r = f.round();
  CHECK(r.ok);
  CHECK(r.snapshots + r.deltas == 0);
  CHECK(r.released == 2);
  CHECK(f.stream->batches() == 1);
}

TEST_CASE("a refused round lets nothing through, and the next one writes a snapshot and lets both rounds' through") {
  durable_fixture f;
  f.handle({{1, 10.0}});
  REQUIRE(f.round().ok);
  f.handle({{1, 12.0}, {3, 30.0}});
  f.stream->set_answer(memory_stream::answer::refuse);
  auto refused = f.round();
  CHECK_FALSE(refused.ok);
  CHECK(refused.problem == "the broker refused the checkpoint (or the publishing connection closed)");
  CHECK(refused.released == 0);
  CHECK(f.channel->count() == 1);
  CHECK(f.gate->held() == 2);

  f.handle({{4, 40.0}});
  f.stream->set_answer(memory_stream::answer::confirm);
  auto next = f.round();
  CHECK(next.ok);
  CHECK(next.snapshots == 1);
  CHECK(next.released == 3);
  CHECK(f.channel->count() == 4);
  CHECK(f.gate->held() == 0);
  // The refused delta took sequence 2 (it might have landed): the snapshot is 3.
  CHECK(f.stream->kinds() == "snapshot 1/1 snapshot 3/3");
  CHECK(json_of(f.restored()) == f.live_json());
  CHECK(f.restored().table().size() == 3);
}

TEST_CASE("a round whose records reached no queue lets nothing through, declares the stream again, and the next "
          "round's snapshot holds what the lost records held") {
  durable_fixture f;
  f.handle({{1, 10.0}});
  REQUIRE(f.round().ok);
  f.handle({{1, 12.0}, {3, 30.0}});
  // The stream was deleted: the broker confirms the records and drops them.
  f.stream->set_answer(memory_stream::answer::unroute);
  auto lost = f.round();
  CHECK_FALSE(lost.ok);
  CHECK(lost.problem == "the broker routed the checkpoint to no queue (the state stream, or its binding to its "
                        "exchange, is gone); declared them again: the next round writes snapshots");
  CHECK(lost.released == 0);
  CHECK(f.gate->held() == 2);
  CHECK(f.stream->declared_again() == 1);

  f.stream->set_answer(memory_stream::answer::confirm);
  auto next = f.round();
  CHECK(next.ok);
  CHECK(next.snapshots == 1);
  CHECK(next.released == 2);
  CHECK(f.gate->held() == 0);
  CHECK(f.stream->kinds() == "snapshot 1/1 snapshot 3/3");
  CHECK(json_of(f.restored()) == f.live_json());
  CHECK(f.restored().table().size() == 2);
}

TEST_CASE("a round the broker does not answer in time lets nothing through and names the timeout") {
  durable_fixture f;
  f.handle({{1, 10.0}});
  f.stream->set_answer(memory_stream::answer::never);
  auto r = f.round(20ms);
  CHECK_FALSE(r.ok);
  CHECK(r.problem == "the broker did not confirm the checkpoint within 20 ms");
  CHECK(f.channel->count() == 0);
  CHECK(f.gate->held() == 1);
  CHECK(f.chains[0].wants_snapshot());
}

TEST_CASE("the writer runs rounds every interval, early once the gate holds early_at acknowledgements, and on flush") {
  durable_fixture f;
  checkpoint_writer_options options;
  options.interval = 60s;  // only early rounds and flushes in this test
  options.early_at = [] { return std::size_t{5}; };
  auto writer = f.writer(options);
  writer->start();
  f.handle({{1, 1.0}, {2, 2.0}, {3, 3.0}, {4, 4.0}});
  std::this_thread::sleep_for(50ms);
  CHECK(f.channel->count() == 0);  // 4 held: below early_at, and the interval is far
  f.handle({{5, 5.0}});
  CHECK(f.channel->wait_for(5, 5s));  // the fifth starts a round
  // The round lets the acknowledgements through before the writer counts it.
  CHECK(eventually([&] { return writer->stats().rounds == 1; }));

  f.handle({{1, 1.5}});
  CHECK(writer->flush());
  CHECK(f.channel->count() == 6);
  CHECK(writer->stats().rounds == 2);
  CHECK(writer->stats().snapshots == 1);
  CHECK(writer->stats().deltas == 1);
  writer->stop();
  CHECK_FALSE(writer->flush());  // stopped: no more rounds
  CHECK(json_of(f.restored()) == f.live_json());
}

TEST_CASE("a hurried gate starts a round below early_at: a full prefetch window waits for no mark") {
  durable_fixture f;
  checkpoint_writer_options options;
  options.interval = 60s;
  options.early_at = [] { return std::size_t{500}; };
  auto writer = f.writer(options);
  writer->start();
  f.handle({{1, 1.0}, {2, 2.0}});
  std::this_thread::sleep_for(50ms);
  CHECK(f.channel->count() == 0);  // 2 held, far below 500
  f.gate->hurry();                 // what the readings source does when its window fills
  CHECK(f.channel->wait_for(2, 5s));
  CHECK(eventually([&] { return writer->stats().rounds == 1; }));
  f.handle({{3, 3.0}});
  std::this_thread::sleep_for(50ms);
  CHECK(f.channel->count() == 2);  // the hurry ended with its round
  writer->stop();
  CHECK(f.channel->count() == 3);  // the last round on stop
  CHECK(json_of(f.restored()) == f.live_json());
}

TEST_CASE("while rounds fail the part checkpoints is down with the reason, and a confirmed round brings it up again") {
  durable_fixture f;
  checkpoint_writer_options options;
  options.interval = 10ms;
  auto writer = f.writer(options);
  f.stream->set_answer(memory_stream::answer::refuse);
  writer->start();
  f.handle({{1, 1.0}});
  CHECK(eventually([&] { return writer->stats().failed_rounds >= 3; }));
  CHECK(writer->stats().is_failing);
  CHECK(f.health->first_problem() ==
        std::optional<std::string>{"checkpoints: the broker refused the checkpoint (or the publishing connection closed)"});
  CHECK(f.channel->count() == 0);

  f.stream->set_answer(memory_stream::answer::confirm);
  CHECK(f.channel->wait_for(1, 5s));
  CHECK(eventually([&] { return !f.health->first_problem(); }));
  CHECK_FALSE(writer->stats().is_failing);
  writer->stop();
  CHECK(json_of(f.restored()) == f.live_json());
}

TEST_CASE("the writer runs its rounds on the sink's thread, and fails one the sink never answers after the confirm timeout") {
  durable_fixture f;
  checkpoint_writer_options options;
  options.interval = 60s;
  options.confirm_timeout = 50ms;
  options.early_at = [] { return std::size_t{2}; };
  std::promise<std::thread::id> sink_thread;
  REQUIRE(f.stream->post([&] { sink_thread.set_value(std::this_thread::get_id()); }));
  const auto sink_id = sink_thread.get_future().get();
  std::promise<std::thread::id> round_thread;
  f.stream->before_next([&] { round_thread.set_value(std::this_thread::get_id()); });
  f.stream->set_answer(memory_stream::answer::never);
  auto writer = f.writer(options);
  writer->start();
  f.handle({{1, 1.0}, {2, 2.0}});
  // The round is published and never answered: the sink's alarm fails it.
  CHECK(eventually([&] { return writer->stats().failed_rounds == 1; }));
  CHECK(round_thread.get_future().get() == sink_id);
  CHECK(f.health->first_problem() ==
        std::optional<std::string>{"checkpoints: the broker did not confirm the checkpoint within 50 ms"});
  CHECK(f.channel->count() == 0);
  CHECK(f.gate->held() == 2);

  // The next round (a flush: after a failure only the interval or a flush starts one) writes a
  // snapshot and lets both readings through.
  f.stream->set_answer(memory_stream::answer::confirm);
  CHECK(writer->flush());
  CHECK(f.channel->count() == 2);
  CHECK(writer->stats().rounds == 1);
  CHECK_FALSE(f.health->first_problem());
  writer->stop();
  // Only the confirmed round's records are in the stream: the unanswered batch was never appended.
  CHECK(f.stream->kinds() == "snapshot 2/2");
  CHECK(json_of(f.restored()) == f.live_json());
}

TEST_CASE("remove_chain waits for the round in flight, and the rounds after it leave the shard out") {
  durable_fixture f;
  checkpoint_writer_options options;
  options.interval = 60s;
  options.confirm_timeout = 200ms;
  auto writer = f.writer(options);
  f.stream->set_answer(memory_stream::answer::never);
  writer->start();
  f.handle({{1, 1.0}});
  std::thread flusher([&] { writer->flush(); });  // a round in flight, never answered
  CHECK(eventually([&] { return f.stream->batches() == 1; }));
  auto removed = writer->remove_chain(0);
  // It returned once the clock had failed the round in flight, not before.
  CHECK(writer->stats().failed_rounds == 1);
  flusher.join();
  REQUIRE(removed.has_value());
  CHECK(removed->shard() == one_shard);
  CHECK(removed->wants_snapshot());  // the failed round's record is not in the stream
  f.stream->set_answer(memory_stream::answer::confirm);
  f.handle({{2, 2.0}});
  CHECK(writer->flush());
  CHECK(f.stream->batches() == 1);  // no chain left: nothing written, the round only releases
  CHECK(f.channel->count() == 2);
  writer->stop();
}

TEST_CASE("a restore reads the stream, claims above its epochs, and carries on where the old owner stopped") {
  durable_fixture old_owner;
  old_owner.handle({{1, 10.0}, {2, 20.0}});
  REQUIRE(old_owner.round().ok);
  old_owner.handle({{1, 11.0}});
  REQUIRE(old_owner.round().ok);
  // The old owner was killed before its next round: its last readings are in no checkpoint.
  old_owner.handle({{2, 99.0}});

  shard_claim claim{one_shard, "node-b", alert_rules{}, 4096};
  auto restored = restore_from_stream(*old_owner.stream, *old_owner.stream, claim, restore_settings{});
  REQUIRE_MESSAGE(restored.has_value(), (restored ? std::string() : restored.err().message));
  CHECK(claim.epoch() == 2);
  CHECK(restored->sequence == 2);
  CHECK(old_owner.stream->kinds() == "snapshot 1/1 delta 2/1 takeover 2/1");
  REQUIRE(restored->state.table().size() == 2);
  CHECK(restored->state.table().at(0).stats.count() == 2);  // 10 and 11
  CHECK(restored->state.table().at(1).stats.count() == 1);  // 20; the 99 was never confirmed

  // The new owner's first record is a snapshot after the takeover.
  durable_fixture next;
  next.stream = old_owner.stream;
  next.chains = {shard_chain{one_shard, "node-b", claim.epoch(), restored->sequence}};
  next.tracker->restore_shard(0, std::move(restored->state));
  CHECK(next.tracker->tracked() == 2);
  next.handle({{2, 21.0}});
  REQUIRE(next.round().ok);
  CHECK(next.stream->kinds() == "snapshot 1/1 delta 2/1 takeover 2/1 snapshot 3/3");
  CHECK(json_of(next.restored()) == next.live_json());
}

TEST_CASE("a restore whose claim loses to a rival's claims again above it") {
  memory_stream stream;
  shard_claim claim{one_shard, "node-a", alert_rules{}, 4096};
  // node-b's claim of epoch 1 lands just before node-a's.
  stream.before_next([&] {
    stream.append(*encode_checkpoint(takeover_record(one_shard, "node-b", 1, 0, std::nullopt, 5)));
  });
  auto restored = restore_from_stream(stream, stream, claim, restore_settings{});
  REQUIRE(restored.has_value());
  CHECK(claim.epoch() == 2);
  CHECK(restored->fence == std::optional<owner_fence>{owner_fence{2, "node-a"}});
  CHECK(stream.kinds() == "takeover 0/0 takeover 0/0 takeover 0/0");
}

TEST_CASE("a restore stops with one line when the claim is not confirmed, or the records do not fold") {
  memory_stream refusing;
  refusing.set_answer(memory_stream::answer::refuse);
  shard_claim claim{one_shard, "node-a", alert_rules{}, 4096};
  auto refused = restore_from_stream(refusing, refusing, claim, restore_settings{});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.err().message == "shard 0: the takeover with epoch 1 was not written: the broker refused it");

  memory_stream garbled;
  garbled.append("TLSR but not a record");
  shard_claim second{one_shard, "node-a", alert_rules{}, 4096};
  auto broken = restore_from_stream(garbled, garbled, second, restore_settings{});
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.err().message.starts_with("shard 0: the record after the start does not decode: checkpoint record: "));
}

TEST_CASE("rounds start at a third of the window, at a sixth for 250 ms after the window was full") {
  using std::chrono::steady_clock;
  const steady_clock::duration now = 3600s;
  // Never full: a third, also in the first 250 ms of the clock.
  CHECK(early_round_mark(1000, steady_clock::duration{0}, now) == 333);
  CHECK(early_round_mark(1000, steady_clock::duration{0}, 100ms) == 333);
  // Full a moment ago: a sixth, until 250 ms have passed.
  CHECK(early_round_mark(1000, now, now) == 166);
  CHECK(early_round_mark(1000, now - 249ms, now) == 166);
  CHECK(early_round_mark(1000, now - 250ms, now) == 333);
  CHECK(early_round_mark(1000, now - 10s, now) == 333);
  // The window of every producer channel.
  CHECK(early_round_mark(3 * 1000, now - 1ms, now) == 500);
  CHECK(early_round_mark(3 * 1000, now - 1s, now) == 1000);
  CHECK(backlog_span == 250ms);
}

} // namespace checkpoint_round_test
