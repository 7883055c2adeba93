#include "causeway/amqp/queue_source.hpp"
#include "causeway/amqp/read_pacer.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace read_pacer_test {

using causeway::amqp::read_pacer;
using std::chrono::milliseconds;

namespace {

// What one read brought and the wait before the next read it leads to (-1: poll again).
struct step {
  std::size_t frames;
  int next_ms;
};

void run(read_pacer pacer, const std::vector<step>& steps) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    CAPTURE(i);
    CAPTURE(steps[i].frames);
    auto next = pacer.after_read(steps[i].frames);
    if (steps[i].next_ms < 0)
      CHECK_FALSE(next.has_value());
    else
      CHECK(next == std::optional{milliseconds{steps[i].next_ms}});
  }
}

} // namespace

TEST_CASE("reads that bring few frames stretch the interval, doubling up to the longest") {
  // wanted 192 frames: fewer than 96 double it, more than 384 halve it.
  run(read_pacer{milliseconds{1}, milliseconds{8}, 192},
      {{30, 2}, {60, 4}, {95, 8}, {10, 8}, {120, 8}, {384, 8}});
}

TEST_CASE("reads that bring many frames shrink the interval, halving down to the shortest") {
  run(read_pacer{milliseconds{1}, milliseconds{8}, 192},
      {{10, 2}, {10, 4}, {10, 8}, {385, 4}, {1500, 2}, {1500, 1}, {4096, 1}, {96, 1}, {95, 2}});
}

TEST_CASE("a read that left much in the socket halves the interval, however many frames it brought") {
  // One read takes at most the reader's buffer: reads of a full buffer in the band that keeps
  // the interval (here 384 frames) at 8 ms would cap the rate at one buffer per 8 ms.
  read_pacer pacer{milliseconds{1}, milliseconds{8}, 192};
  for (std::size_t frames : {10, 10, 10})
    pacer.after_read(frames);
  CHECK(pacer.after_read(384) == std::optional{milliseconds{8}});
  CHECK(pacer.after_read(384, true) == std::optional{milliseconds{4}});
  CHECK(pacer.after_read(10, true) == std::optional{milliseconds{2}});
  CHECK(pacer.after_read(384, true) == std::optional{milliseconds{1}});
  CHECK(pacer.after_read(384, true) == std::optional{milliseconds{1}});
  // Caught up: the frames decide again.
  CHECK(pacer.after_read(10) == std::optional{milliseconds{2}});
  // Nothing read, nothing behind: poll again.
  CHECK_FALSE(pacer.after_read(0, true).has_value());
}

TEST_CASE("a read and the rest it left in the socket count as one read") {
  // wanted 192 frames: the band 96..384 keeps the interval. At a steady low rate a read often
  // lands in the middle of a burst from the broker: what it left, read at once, is part of it.
  read_pacer pacer{milliseconds{1}, milliseconds{8}, 192};
  run(pacer, {{10, 2}, {10, 4}, {10, 8}});
  pacer.after_read(10);
  pacer.after_read(10);
  pacer.after_read(10);
  REQUIRE(pacer.interval() == milliseconds{8});
  pacer.carry(150);
  CHECK(pacer.carries());
  CHECK(pacer.interval() == milliseconds{8});  // nothing decided until the rest is read
  CHECK(pacer.after_read(100) == std::optional{milliseconds{8}});  // 250 frames: in the band
  CHECK_FALSE(pacer.carries());
  // The two together bring more than twice the frames wanted: the reads come closer.
  pacer.carry(300);
  CHECK(pacer.after_read(100) == std::optional{milliseconds{4}});
  // Two few-frame parts are one few-frame read: the interval stretches.
  pacer.carry(30);
  CHECK(pacer.after_read(30) == std::optional{milliseconds{8}});
  // The rest left much behind too: the reads are too far apart for the rate.
  pacer.carry(100);
  CHECK(pacer.after_read(50, true) == std::optional{milliseconds{4}});
  // A rest that finds nothing still counts the first part.
  pacer.carry(100);
  CHECK(pacer.after_read(0) == std::optional{milliseconds{4}});
  // A restart (e.g. a lost connection) drops what was carried.
  pacer.carry(1000);
  pacer.restart();
  CHECK_FALSE(pacer.carries());
  CHECK(pacer.after_read(100) == std::optional{milliseconds{1}});
}

TEST_CASE("a read that brings nothing polls again and the interval is kept for the next busy spell") {
  read_pacer pacer{milliseconds{1}, milliseconds{8}, 192};
  CHECK(pacer.after_read(10) == std::optional{milliseconds{2}});
  CHECK(pacer.after_read(10) == std::optional{milliseconds{4}});
  CHECK_FALSE(pacer.after_read(0).has_value());
  CHECK(pacer.interval() == milliseconds{4});
  CHECK(pacer.after_read(10) == std::optional{milliseconds{8}});
}

TEST_CASE("a restart brings the interval back to the shortest, from where reads stretch it again") {
  read_pacer pacer{milliseconds{1}, milliseconds{8}, 192};
  run(pacer, {{10, 2}, {10, 4}, {10, 8}});
  pacer.after_read(10);
  pacer.after_read(10);
  CHECK(pacer.interval() == milliseconds{4});
  pacer.restart();
  CHECK(pacer.interval() == milliseconds{1});
  CHECK(pacer.after_read(10) == std::optional{milliseconds{2}});
  CHECK(pacer.after_read(1000) == std::optional{milliseconds{1}});
}

TEST_CASE("a longest interval at or below the shortest keeps the interval fixed") {
  run(read_pacer{milliseconds{1}, milliseconds{0}}, {{1, 1}, {1, 1}, {5000, 1}, {0, -1}, {1, 1}});
  run(read_pacer{milliseconds{25}, milliseconds{25}}, {{1, 25}, {5000, 25}});
}

TEST_CASE("a shortest interval of 0 turns pacing off: every read polls again") {
  run(read_pacer{milliseconds{0}, milliseconds{8}}, {{1, -1}, {5000, -1}, {0, -1}});
  CHECK_FALSE(read_pacer{milliseconds{0}, milliseconds{8}}.paces());
  CHECK(read_pacer{milliseconds{1}, milliseconds{0}}.paces());
}

TEST_CASE("the frames wanted per read set where the interval settles") {
  // 15 frames per millisecond (a paced 5,000 deliveries/s): with 192 wanted it settles at 8 ms
  // (120 frames), with 64 wanted at 4 ms (60 frames).
  read_pacer wide{milliseconds{1}, milliseconds{16}, 192};
  read_pacer narrow{milliseconds{1}, milliseconds{16}, 64};
  auto frames_in = [](milliseconds d) { return static_cast<std::size_t>(15 * d.count()); };
  for (int i = 0; i < 10; ++i) {
    wide.after_read(frames_in(wide.interval()));
    narrow.after_read(frames_in(narrow.interval()));
  }
  CHECK(wide.interval() == milliseconds{8});
  CHECK(narrow.interval() == milliseconds{4});
}

TEST_CASE("by default a paced 5,000 deliveries/s is read every 48 ms and 20,000/s every 16 ms") {
  // 15 and 60 frames per millisecond, under the consumer's longest interval of 48 ms
  // (queue_source_options::default_connection): ~240 and ~320 deliveries per wake-up.
  auto settle = [](std::size_t frames_per_ms) {
    read_pacer pacer{milliseconds{1}, milliseconds{48}};
    for (int i = 0; i < 10; ++i)
      pacer.after_read(frames_per_ms * static_cast<std::size_t>(pacer.interval().count()));
    return pacer.interval();
  };
  CHECK(settle(15) == milliseconds{48});
  CHECK(settle(60) == milliseconds{16});
  CHECK(causeway::amqp::queue_source_options::default_connection().longest_read_interval ==
        milliseconds{48});
  // 133,000 deliveries/s: every 2 ms. A drain reads full buffers and leaves much in the socket
  // (`behind`): every millisecond, as the test above on a read that left much shows.
  CHECK(settle(400) == milliseconds{2});
}

TEST_CASE("a hurried read aims at a third of the frames wanted") {
  // wanted 192, hurried 64: fewer than 32 frames double the interval, more than 128 halve it.
  read_pacer pacer{milliseconds{1}, milliseconds{8}, 192};
  for (std::size_t frames : {10, 10, 10})
    pacer.after_read(frames);
  CHECK(pacer.after_read(150) == std::optional{milliseconds{8}});
  CHECK(pacer.after_read(150, false, true) == std::optional{milliseconds{4}});
  CHECK(pacer.after_read(129, false, true) == std::optional{milliseconds{2}});
  CHECK(pacer.after_read(128, false, true) == std::optional{milliseconds{2}});
  CHECK(pacer.after_read(32, false, true) == std::optional{milliseconds{2}});
  CHECK(pacer.after_read(31, false, true) == std::optional{milliseconds{4}});
  // Not hurried: 150 frames keep the interval, 95 double it.
  CHECK(pacer.after_read(150) == std::optional{milliseconds{4}});
  CHECK(pacer.after_read(95) == std::optional{milliseconds{8}});
  // Wanted 1 or 2: a hurried read still wants one frame.
  read_pacer one{milliseconds{1}, milliseconds{8}, 2};
  CHECK(one.after_read(3, false, true) == std::optional{milliseconds{1}});
  CHECK(one.after_read(2, false, true) == std::optional{milliseconds{1}});
  CHECK(one.after_read(0, false, true) == std::nullopt);
}

TEST_CASE("hurried, 20,000 deliveries/s are read every 4 ms instead of every 16") {
  // 60 frames per millisecond under the consumer's defaults: ~80 deliveries per read while a
  // window was full a moment ago (causeway::amqp::backlog_span), ~320 otherwise.
  auto settle = [](bool hurried) {
    read_pacer pacer{milliseconds{1}, milliseconds{48}};
    for (int i = 0; i < 10; ++i)
      pacer.after_read(60 * static_cast<std::size_t>(pacer.interval().count()), false, hurried);
    return pacer.interval();
  };
  CHECK(settle(false) == milliseconds{16});
  CHECK(settle(true) == milliseconds{4});
}

} // namespace read_pacer_test
