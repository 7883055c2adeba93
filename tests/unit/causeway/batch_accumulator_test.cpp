// Claims about batch_accumulator: batches per (key, partition), emitted on size, timeout or flush.
#include "causeway/detail/batch_accumulator.hpp"

#include "string_makers.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using causeway::batch_trigger;
using causeway::message;
using causeway::detail::batch;
using causeway::detail::batch_accumulator;
using namespace std::chrono_literals;

namespace {

using time_point = causeway::detail::clock::time_point;
const time_point t0 = time_point{} + 1h;

message keyed(std::string data, std::string key = {}) {
  message msg{std::move(data)};
  if (!key.empty())
    msg.put_batch_key(std::move(key));
  return msg;
}

std::vector<std::string> data_of(const batch& b) {
  std::vector<std::string> out;
  for (const auto& m : b.messages)
    out.push_back(m.data);
  return out;
}

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("a batch is emitted when it reaches exactly batch_size") {
  batch_accumulator acc{"one", 3, 1000ms};
  CHECK_FALSE(acc.add(keyed("a"), 0, t0).has_value());
  CHECK_FALSE(acc.add(keyed("b"), 0, t0).has_value());
  CHECK(acc.size() == 2);
  auto full = acc.add(keyed("c"), 0, t0);
  REQUIRE(full.has_value());
  CHECK(data_of(*full) == strings{"a", "b", "c"});
  CHECK(full->info.batcher == "one");
  CHECK(full->info.batch_key == "");
  CHECK(full->info.partition == 0);
  CHECK(full->info.size == 3);
  CHECK(full->info.trigger == batch_trigger::size);
  CHECK(acc.size() == 0);
  CHECK_FALSE(acc.next_deadline().has_value());

  CHECK_FALSE(acc.add(keyed("d"), 0, t0).has_value());  // the next batch starts empty
  CHECK(acc.size() == 1);
}

TEST_CASE("a batch_size of 1 emits every message on its own") {
  batch_accumulator acc{"one", 1, 1000ms};
  for (const char* data : {"a", "b", "c"}) {
    CAPTURE(data);
    auto b = acc.add(keyed(data), 0, t0);
    REQUIRE(b.has_value());
    CHECK(data_of(*b) == strings{data});
    CHECK(b->info.size == 1);
  }
  CHECK(acc.size() == 0);
}

TEST_CASE("messages with different batch keys go to different batches") {
  batch_accumulator acc{"one", 2, 1000ms};
  CHECK_FALSE(acc.add(keyed("x1", "x"), 0, t0).has_value());
  CHECK_FALSE(acc.add(keyed("y1", "y"), 0, t0).has_value());
  auto x = acc.add(keyed("x2", "x"), 0, t0);
  REQUIRE(x.has_value());
  CHECK(data_of(*x) == strings{"x1", "x2"});
  CHECK(x->info.batch_key == "x");
  CHECK(acc.size() == 1);

  auto y = acc.add(keyed("y2", "y"), 0, t0);
  REQUIRE(y.has_value());
  CHECK(data_of(*y) == strings{"y1", "y2"});
  CHECK(y->info.batch_key == "y");
}

TEST_CASE("messages for different partitions go to different batches") {
  batch_accumulator acc{"one", 2, 1000ms};
  CHECK_FALSE(acc.add(keyed("p0-a", "k"), 0, t0).has_value());
  CHECK_FALSE(acc.add(keyed("p1-a", "k"), 1, t0).has_value());
  auto p1 = acc.add(keyed("p1-b", "k"), 1, t0);
  REQUIRE(p1.has_value());
  CHECK(data_of(*p1) == strings{"p1-a", "p1-b"});
  CHECK(p1->info.partition == 1);
  CHECK(p1->info.batch_key == "k");
  CHECK(acc.size() == 1);
}

TEST_CASE("keys and partitions interleaved, batches closed every way, keep every message in its own batch") {
  // The accumulator remembers the batch each partition added to last; none of these may land
  // a message in a batch already emitted, or in another key's or partition's.
  batch_accumulator acc{"b", 2, 100ms};
  std::vector<batch> out;
  auto add = [&](std::string data, std::string key, std::size_t partition, time_point now) {
    if (auto full = acc.add(keyed(std::move(data), std::move(key)), partition, now))
      out.push_back(std::move(*full));
  };
  add("k0-a", "k", 0, t0);
  add("k1-a", "k", 1, t0);
  add("j0-a", "j", 0, t0);
  add("k0-b", "k", 0, t0);  // closes (k, 0) by size
  add("k0-c", "k", 0, t0);  // opens (k, 0) afresh
  add("big-a", "k", 1000, t0);  // a partition beyond what is remembered
  add("big-b", "k", 1000, t0);
  REQUIRE(out.size() == 2);
  CHECK(data_of(out[0]) == strings{"k0-a", "k0-b"});
  CHECK(out[0].info.partition == 0);
  CHECK(data_of(out[1]) == strings{"big-a", "big-b"});
  CHECK(out[1].info.partition == 1000);

  auto expired = acc.expire(t0 + 100ms);  // (k, 1), (j, 0), (k, 0) again
  REQUIRE(expired.size() == 3);
  CHECK(data_of(expired[0]) == strings{"k1-a"});
  CHECK(data_of(expired[1]) == strings{"j0-a"});
  CHECK(data_of(expired[2]) == strings{"k0-c"});
  CHECK(acc.size() == 0);

  add("k1-b", "k", 1, t0 + 150ms);  // the batch it added to last is gone: a new one
  CHECK(acc.next_deadline() == t0 + 250ms);
  batch_accumulator moved{std::move(acc)};
  REQUIRE(moved.size() == 1);
  auto full = moved.add(keyed("k1-c", "k"), 1, t0 + 160ms);  // the same batch, after the move
  REQUIRE(full.has_value());
  CHECK(data_of(*full) == strings{"k1-b", "k1-c"});

  CHECK_FALSE(moved.add(keyed("k1-d", "k"), 1, t0 + 170ms).has_value());
  auto flushed = moved.flush();
  REQUIRE(flushed.size() == 1);
  CHECK(data_of(flushed[0]) == strings{"k1-d"});
  CHECK_FALSE(moved.add(keyed("k1-e", "k"), 1, t0 + 180ms).has_value());  // not into the flushed batch
  CHECK(moved.size() == 1);
  CHECK(moved.next_deadline() == t0 + 280ms);
}

TEST_CASE("a partial batch is emitted when its timeout expires") {
  batch_accumulator acc{"slow", 10, 100ms};
  CHECK_FALSE(acc.add(keyed("a", "k"), 3, t0).has_value());
  CHECK_FALSE(acc.add(keyed("b", "k"), 3, t0 + 60ms).has_value());  // does not move the deadline
  CHECK(acc.next_deadline() == std::optional{t0 + 100ms});

  CHECK(acc.expire(t0 + 99ms).empty());
  CHECK(acc.size() == 2);

  auto due = acc.expire(t0 + 100ms);
  REQUIRE(due.size() == 1);
  CHECK(data_of(due[0]) == strings{"a", "b"});
  CHECK(due[0].info.batcher == "slow");
  CHECK(due[0].info.batch_key == "k");
  CHECK(due[0].info.partition == 3);
  CHECK(due[0].info.size == 2);
  CHECK(due[0].info.trigger == batch_trigger::timeout);
  CHECK(acc.size() == 0);
  CHECK_FALSE(acc.next_deadline().has_value());
  CHECK(acc.expire(t0 + 1s).empty());
}

TEST_CASE("expire emits the batches that are due, oldest first") {
  batch_accumulator acc{"one", 10, 100ms};
  // Opened in the order z, a, m: emission follows opening order, not key order.
  CHECK_FALSE(acc.add(keyed("z1", "z"), 0, t0).has_value());
  CHECK_FALSE(acc.add(keyed("a1", "a"), 0, t0 + 10ms).has_value());
  CHECK_FALSE(acc.add(keyed("m1", "m"), 0, t0 + 50ms).has_value());
  CHECK(acc.next_deadline() == std::optional{t0 + 100ms});

  auto due = acc.expire(t0 + 110ms);
  REQUIRE(due.size() == 2);
  CHECK(due[0].info.batch_key == "z");
  CHECK(due[1].info.batch_key == "a");
  CHECK(acc.size() == 1);
  CHECK(acc.next_deadline() == std::optional{t0 + 150ms});

  due = acc.expire(t0 + 150ms);
  REQUIRE(due.size() == 1);
  CHECK(data_of(due[0]) == strings{"m1"});
}

TEST_CASE("a batch reopened after a size emission gets a fresh deadline") {
  batch_accumulator acc{"one", 2, 100ms};
  CHECK_FALSE(acc.add(keyed("a"), 0, t0).has_value());
  REQUIRE(acc.add(keyed("b"), 0, t0 + 10ms).has_value());
  CHECK_FALSE(acc.add(keyed("c"), 0, t0 + 80ms).has_value());
  CHECK(acc.next_deadline() == std::optional{t0 + 180ms});
  CHECK(acc.expire(t0 + 100ms).empty());
}

TEST_CASE("flush emits every open batch, oldest first, with trigger flush") {
  batch_accumulator acc{"one", 10, 100ms};
  CHECK_FALSE(acc.add(keyed("b1", "b"), 0, t0).has_value());
  CHECK_FALSE(acc.add(keyed("a1", "a"), 1, t0 + 1ms).has_value());
  CHECK_FALSE(acc.add(keyed("b2", "b"), 0, t0 + 2ms).has_value());

  auto all = acc.flush();
  REQUIRE(all.size() == 2);
  CHECK(data_of(all[0]) == strings{"b1", "b2"});
  CHECK(all[0].info.batch_key == "b");
  CHECK(all[0].info.partition == 0);
  CHECK(all[0].info.size == 2);
  CHECK(all[0].info.trigger == batch_trigger::flush);
  CHECK(data_of(all[1]) == strings{"a1"});
  CHECK(all[1].info.batch_key == "a");
  CHECK(all[1].info.partition == 1);
  CHECK(all[1].info.size == 1);
  CHECK(all[1].info.trigger == batch_trigger::flush);

  CHECK(acc.size() == 0);
  CHECK_FALSE(acc.next_deadline().has_value());
  CHECK(acc.flush().empty());
}

TEST_CASE("a flush for a stall emits every open batch with trigger stalled, and batches open afresh after it") {
  batch_accumulator acc{"one", 10, 100ms};
  CHECK_FALSE(acc.add(keyed("a1", "a"), 0, t0).has_value());
  CHECK_FALSE(acc.add(keyed("b1", "b"), 0, t0 + 1ms).has_value());
  auto cut = acc.flush(batch_trigger::stalled);
  REQUIRE(cut.size() == 2);
  CHECK(data_of(cut[0]) == strings{"a1"});
  CHECK(cut[0].info.trigger == batch_trigger::stalled);
  CHECK(data_of(cut[1]) == strings{"b1"});
  CHECK(cut[1].info.trigger == batch_trigger::stalled);
  CHECK(acc.size() == 0);
  CHECK_FALSE(acc.add(keyed("a2", "a"), 0, t0 + 50ms).has_value());
  CHECK(acc.next_deadline() == t0 + 150ms);  // the new batch's own timeout
}

TEST_CASE("size counts the messages in open batches only") {
  batch_accumulator acc{"one", 3, 100ms};
  struct step {
    const char* data;
    const char* key;
    std::size_t size_after;
  };
  const std::vector<step> steps{
    {"a1", "a", 1}, {"b1", "b", 2}, {"a2", "a", 3}, {"b2", "b", 4}, {"a3", "a", 2},
    {"b3", "b", 0},
  };
  for (const auto& s : steps) {
    CAPTURE(s.data);
    acc.add(keyed(s.data, s.key), 0, t0);
    CHECK(acc.size() == s.size_after);
  }
}

TEST_CASE("a batch trigger has a text form") {
  CHECK(causeway::to_string(batch_trigger::size) == "size");
  CHECK(causeway::to_string(batch_trigger::timeout) == "timeout");
  CHECK(causeway::to_string(batch_trigger::flush) == "flush");
  CHECK(causeway::to_string(batch_trigger::stalled) == "stalled");
}
