#include <causeway/ack_gate.hpp>
#include <causeway/testing.hpp>

#include <doctest/doctest.h>

#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace ack_gate_test {

using causeway::ack_gate;
using causeway::message;
using causeway::testing::recording_acknowledger;

namespace {

std::vector<message> tagged(std::uint64_t first, std::uint64_t count, const std::shared_ptr<causeway::acknowledger>& to) {
  std::vector<message> out;
  for (std::uint64_t tag = first; tag < first + count; ++tag)
    out.emplace_back("payload " + std::to_string(tag), causeway::ack_ref{to, tag, 7});
  return out;
}

std::vector<std::uint64_t> tags_of(const recording_acknowledger& acks) {
  std::vector<std::uint64_t> out;
  for (const auto& r : acks.records())
    out.push_back(r.tag);
  return out;
}

} // namespace

TEST_CASE("the gate holds acknowledgements until their round is released, then passes them on in order") {
  auto gate = std::make_shared<ack_gate>();
  auto source = std::make_shared<recording_acknowledger>();
  auto through_gate = gate->wrap(source);

  auto first = tagged(1, 3, through_gate);
  through_gate->ack(first, {});
  CHECK(source->count() == 0);
  CHECK(gate->held() == 3);
  CHECK(gate->unsealed() == 3);

  const auto round_one = gate->seal();
  CHECK(round_one == 1);
  CHECK(gate->unsealed() == 0);
  auto second = tagged(4, 2, through_gate);
  through_gate->ack(second, {});  // after the seal: the next round
  CHECK(gate->held() == 5);

  gate->release(round_one);
  CHECK(tags_of(*source) == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(gate->held() == 2);

  gate->release(round_one);  // again: nothing more
  CHECK(source->count() == 3);

  const auto round_two = gate->seal();
  CHECK(round_two == 2);
  gate->release(round_two);
  CHECK(tags_of(*source) == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
  CHECK(gate->held() == 0);
}

TEST_CASE("the gate wakes its checkpointer once per round when the unsealed acknowledgements reach the mark") {
  auto gate = std::make_shared<ack_gate>();
  auto source = std::make_shared<recording_acknowledger>();
  auto through_gate = gate->wrap(source);
  int rings = 0;
  gate->wake_at(4, [&] { ++rings; });
  auto first = tagged(1, 3, through_gate);
  through_gate->ack(first, {});
  CHECK(rings == 0);
  auto second = tagged(4, 2, through_gate);
  through_gate->ack(second, {});  // 5 >= 4
  CHECK(rings == 1);
  auto third = tagged(6, 4, through_gate);
  through_gate->ack(third, {});
  CHECK(rings == 1);  // once per round
  gate->seal();
  auto fourth = tagged(10, 4, through_gate);
  through_gate->ack(fourth, {});
  CHECK(rings == 2);  // the next round reached it again
  gate->wake_at(0, nullptr);
  gate->seal();
  auto fifth = tagged(14, 9, through_gate);
  through_gate->ack(fifth, {});
  CHECK(rings == 2);  // no mark: never
}

TEST_CASE("a hurried gate wakes its checkpointer below the mark: at once if it holds any, else at the next one") {
  auto gate = std::make_shared<ack_gate>();
  auto source = std::make_shared<recording_acknowledger>();
  auto through_gate = gate->wrap(source);
  int rings = 0;
  gate->wake_at(100, [&] { ++rings; });
  CHECK_FALSE(gate->is_hurried());
  auto first = tagged(1, 3, through_gate);
  through_gate->ack(first, {});
  CHECK(rings == 0);
  gate->hurry();  // holds 3, far below 100: rings now
  CHECK(gate->is_hurried());
  CHECK(rings == 1);
  gate->hurry();
  auto second = tagged(4, 2, through_gate);
  through_gate->ack(second, {});
  CHECK(rings == 1);  // still once per round
  gate->seal();
  CHECK_FALSE(gate->is_hurried());  // a seal ends the hurry

  gate->hurry();  // the open round holds nothing: the first acknowledgement rings
  CHECK(rings == 1);
  auto third = tagged(6, 1, through_gate);
  through_gate->ack(third, {});
  CHECK(rings == 2);
  gate->seal();
  auto fourth = tagged(7, 5, through_gate);
  through_gate->ack(fourth, {});
  CHECK(rings == 2);  // not hurried, below the mark
  CHECK(gate->release(2) == 6);
  CHECK(tags_of(*source) == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("a round that was never released is passed on by a later release, and failures keep their reason") {
  auto gate = std::make_shared<ack_gate>();
  auto source = std::make_shared<recording_acknowledger>();
  auto through_gate = gate->wrap(source);

  auto ok = tagged(1, 2, through_gate);
  through_gate->ack(ok, {});
  gate->seal();  // round 1: its checkpoint failed, never released
  auto failed = tagged(3, 1, through_gate);
  failed[0].fail("not a reading: expected an object");
  through_gate->ack({}, failed);
  const auto round_two = gate->seal();
  CHECK(source->count() == 0);

  gate->release(round_two);
  auto records = source->records();
  REQUIRE(records.size() == 3);
  CHECK(source->failed_count() == 1);
  for (const auto& r : records) {
    CHECK(r.ok == (r.tag != 3));
    CHECK(r.data.empty());  // held without its payload
    if (r.tag == 3)
      CHECK(r.reason == "not a reading: expected an object");
  }
}

/// Records what reaches it by which call: references (ack_refs) or messages (ack).
class reference_recorder final : public causeway::acknowledger {
public:
  void ack(std::span<message> successful, std::span<message> failed) override {
    for (const auto& m : successful)
      message_tags.push_back(m.ack.tag);
    for (const auto& m : failed)
      failures.push_back({m.ack.tag, m.ack.epoch, m.failure_reason(), std::string(m.metadata.get("redelivered"))});
  }
  void ack_refs(std::span<const causeway::delivery_ref> successful) override {
    ++ref_calls;
    for (const auto& ref : successful)
      refs.push_back({ref.tag, ref.epoch});
  }
  void recycle(std::span<message> done) override {
    for (auto& m : done)
      recycled.push_back(std::move(m.data));
  }
  struct failure {
    std::uint64_t tag;
    std::uint32_t epoch;
    std::string reason;
    std::string redelivered;
  };
  std::vector<std::uint64_t> message_tags;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> refs;
  std::vector<failure> failures;
  std::vector<std::string> recycled;  // bodies taken back
  int ref_calls = 0;
};

TEST_CASE("the gate lets the source take back the buffers of successful messages at once, and acknowledges them "
          "only when their round is released") {
  auto gate = std::make_shared<ack_gate>();
  auto source = std::make_shared<reference_recorder>();
  auto through_gate = gate->wrap(source);
  auto ok = tagged(1, 2, through_gate);
  auto failed = tagged(3, 1, through_gate);
  failed[0].fail("unknown sensor");
  through_gate->ack(ok, failed);
  // The successes' bodies went back while their acknowledgements wait; the failure keeps its
  // message (its stub is what the source settles it by).
  CHECK(source->recycled == std::vector<std::string>{"payload 1", "payload 2"});
  CHECK(ok[0].data.empty());
  CHECK(failed[0].data == "payload 3");
  CHECK(source->refs.empty());
  CHECK(gate->held() == 3);
  gate->release(gate->seal());
  CHECK(source->refs == std::vector<std::pair<std::uint64_t, std::uint32_t>>{{1, 7}, {2, 7}});
  REQUIRE(source->failures.size() == 1);
  CHECK(source->failures[0].tag == 3);

  SUBCASE("a gate that is gone takes nothing back: those messages are redelivered") {
    auto later = tagged(4, 1, through_gate);
    gate.reset();
    through_gate->ack(later, {});
    CHECK(source->recycled.size() == 2);
    CHECK(later[0].data == "payload 4");
  }
}

TEST_CASE("the gate gives successes back as references, rounds released together in one call, failures as messages "
          "with their reason and redelivered flag") {
  auto gate = std::make_shared<ack_gate>();
  auto source = std::make_shared<reference_recorder>();
  auto through_gate = gate->wrap(source);
  auto ok = tagged(1, 3, through_gate);  // epoch 7
  through_gate->ack(ok, {});
  gate->seal();  // round 1 is never released on its own
  auto more = tagged(4, 2, through_gate);
  auto failed = tagged(6, 2, through_gate);
  failed[0].fail("not a reading: expected an object");
  failed[0].metadata.set("redelivered", "true");
  failed[1].fail("unknown sensor");
  through_gate->ack(more, failed);
  CHECK(gate->held() == 7);
  CHECK(gate->held_failed() == 2);

  CHECK(gate->release(gate->seal()) == 7);
  CHECK(source->ref_calls == 1);
  CHECK(source->refs == std::vector<std::pair<std::uint64_t, std::uint32_t>>{{1, 7}, {2, 7}, {3, 7}, {4, 7}, {5, 7}});
  CHECK(source->message_tags.empty());
  REQUIRE(source->failures.size() == 2);
  CHECK(source->failures[0].tag == 6);
  CHECK(source->failures[0].epoch == 7);
  CHECK(source->failures[0].reason == "not a reading: expected an object");
  CHECK(source->failures[0].redelivered == "true");
  CHECK(source->failures[1].tag == 7);
  CHECK(source->failures[1].redelivered.empty());
  CHECK(gate->held() == 0);
  CHECK(gate->held_failed() == 0);
}

TEST_CASE("acknowledgements of several sources through one gate reach their own source") {
  auto gate = std::make_shared<ack_gate>();
  auto a = std::make_shared<recording_acknowledger>();
  auto b = std::make_shared<recording_acknowledger>();
  auto via_a = gate->wrap(a);
  auto via_b = gate->wrap(b);
  auto from_a = tagged(1, 4, via_a);
  auto from_b = tagged(100, 2, via_b);
  via_a->ack(from_a, {});
  via_b->ack(from_b, {});
  gate->release(gate->seal());
  CHECK(tags_of(*a) == std::vector<std::uint64_t>{1, 2, 3, 4});
  CHECK(tags_of(*b) == std::vector<std::uint64_t>{100, 101});
}

TEST_CASE("stages acknowledging on many threads while rounds are sealed and released lose and repeat nothing") {
  auto gate = std::make_shared<ack_gate>();
  auto source = std::make_shared<recording_acknowledger>();
  auto through_gate = gate->wrap(source);
  constexpr std::uint64_t threads = 4;
  constexpr std::uint64_t per_thread = 5000;
  std::vector<std::thread> stages;
  for (std::uint64_t t = 0; t < threads; ++t)
    stages.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread; i += 10) {
        auto batch = tagged(1 + t * per_thread + i, 10, through_gate);
        through_gate->ack(batch, {});
      }
    });
  std::uint64_t rounds = 0;
  while (source->count() < threads * per_thread && rounds < 1'000'000) {
    gate->release(gate->seal());
    ++rounds;
  }
  for (auto& s : stages)
    s.join();
  gate->release(gate->seal());
  auto times = source->times_acknowledged(threads * per_thread);
  for (std::uint64_t tag = 1; tag <= threads * per_thread; ++tag)
    REQUIRE(times[tag] == 1);
  CHECK(gate->held() == 0);
}

TEST_CASE("acknowledgements given to a gate that is gone reach nobody") {
  auto source = std::make_shared<recording_acknowledger>();
  std::shared_ptr<causeway::acknowledger> through_gate;
  {
    auto gate = std::make_shared<ack_gate>();
    through_gate = gate->wrap(source);
  }
  auto late = tagged(1, 2, through_gate);
  through_gate->ack(late, {});
  CHECK(source->count() == 0);
}

} // namespace ack_gate_test
