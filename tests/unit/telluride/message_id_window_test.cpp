#include "telluride/domain/message_id_window.hpp"

#include "telluride/domain/hash.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

using telluride::message_id_fingerprint;
using telluride::message_id_window;

namespace {

std::uint64_t fp(std::string_view id) {
  return message_id_fingerprint(id);
}

} // namespace

TEST_CASE("an id's fingerprint is hash_bytes of its bytes, the same on every run") {
  // Checkpoints store these values (format version 2): they must never change.
  CHECK(fp("m1") == telluride::hash_bytes("m1"));
  CHECK(fp("") == 0x2b09d2a0f65ee248ULL);
  CHECK(fp("m1") == 0xfba57084a7d2e0deULL);
  CHECK(fp("5f3c9a1b2e-1") == 0x5681635182dd82fbULL);
  CHECK(fp(std::string(255, 'x')) == 0xf2852e2370b5a118ULL);
  CHECK(fp("m1") != fp("m2"));
  CHECK(fp("ab") != fp(std::string("ab\0", 3)));  // the length is part of it
}

TEST_CASE("an id is new the first time only") {
  message_id_window window(10);
  CHECK(window.first_time(fp("msg-1")));
  CHECK_FALSE(window.first_time(fp("msg-1")));
  CHECK(window.first_time(fp("msg-2")));
  CHECK(window.size() == 2);
  CHECK(window.contains(fp("msg-1")));
  CHECK_FALSE(window.contains(fp("msg-3")));
}

TEST_CASE("when full, the oldest id is forgotten first") {
  message_id_window window(3);
  CHECK(window.first_time(fp("a")));
  CHECK(window.first_time(fp("b")));
  CHECK(window.first_time(fp("c")));
  CHECK(window.size() == 3);  // exactly full: nothing forgotten yet
  CHECK(window.contains(fp("a")));
  CHECK(window.first_time(fp("d")));  // forgets a
  CHECK(window.size() == 3);
  CHECK_FALSE(window.contains(fp("a")));
  CHECK_FALSE(window.first_time(fp("b")));
  CHECK_FALSE(window.first_time(fp("c")));
  CHECK_FALSE(window.first_time(fp("d")));
  CHECK(window.first_time(fp("a")));  // forgets b
  CHECK(window.first_time(fp("b")));  // forgets c
  CHECK_FALSE(window.first_time(fp("d")));
  CHECK(window.size() == 3);
}

TEST_CASE("seeing an id again does not make it younger") {
  message_id_window window(2);
  CHECK(window.first_time(fp("a")));
  CHECK(window.first_time(fp("b")));
  CHECK_FALSE(window.first_time(fp("a")));
  CHECK(window.first_time(fp("c")));  // forgets a, the oldest, although it was just seen
  CHECK_FALSE(window.contains(fp("a")));
  CHECK(window.contains(fp("b")));
}

TEST_CASE("a capacity of 0 remembers one id") {
  message_id_window window(0);
  CHECK(window.capacity() == 1);
  CHECK(window.first_time(fp("a")));
  CHECK_FALSE(window.first_time(fp("a")));
  CHECK(window.first_time(fp("b")));
  CHECK(window.first_time(fp("a")));
}

TEST_CASE("empty and long ids are ids like any other") {
  message_id_window window(4);
  const std::string long_id(1000, 'z');
  CHECK(window.first_time(fp("")));
  CHECK_FALSE(window.first_time(fp("")));
  CHECK(window.first_time(fp(long_id)));
  CHECK_FALSE(window.first_time(fp(long_id)));
  CHECK(window.first_time(fp(long_id + "!")));
}

TEST_CASE("any 64-bit value is a fingerprint, 0 and all ones included") {
  message_id_window window(3);
  CHECK(window.first_time(0));
  CHECK(window.first_time(UINT64_MAX));
  CHECK_FALSE(window.first_time(0));
  CHECK(window.contains(0));
  CHECK(window.first_time(1));
  CHECK(window.first_time(2));  // forgets 0
  CHECK_FALSE(window.contains(0));
  CHECK(window.first_time(0));  // forgets all ones
  CHECK_FALSE(window.contains(UINT64_MAX));
  std::vector<std::uint64_t> kept;
  window.for_each_latest(3, [&](std::uint64_t f) { kept.push_back(f); });
  CHECK(kept == std::vector<std::uint64_t>{1, 2, 0});
}

namespace {

/// Plays `picks` through a window and a reference FIFO; the number of answers that differ.
int disagreements_with_reference(std::size_t capacity, const std::vector<std::uint64_t>& picks,
                                 message_id_window& window) {
  std::deque<std::uint64_t> order;
  std::unordered_set<std::uint64_t> remembered;
  int disagreements = 0;
  for (std::uint64_t f : picks) {
    const bool expected = remembered.insert(f).second;
    if (expected) {
      order.push_back(f);
      if (order.size() > capacity) {
        remembered.erase(order.front());
        order.pop_front();
      }
    }
    disagreements += window.first_time(f) != expected;
  }
  CHECK(window.size() == order.size());
  for (std::uint64_t f : order)
    CHECK(window.contains(f));
  return disagreements;
}

} // namespace

TEST_CASE("the window answers like a reference FIFO over 200,000 random ids") {
  // Few distinct ids and long probe runs exercise eviction from the middle of a run.
  for (std::size_t capacity : {1, 2, 7, 64, 1000}) {
    CAPTURE(capacity);
    message_id_window window(capacity);
    std::mt19937_64 rng(capacity);
    std::uniform_int_distribution<int> pick(0, static_cast<int>(capacity * 3));
    std::vector<std::uint64_t> picks;
    for (int i = 0; i < 200000; ++i)
      picks.push_back(fp("id-" + std::to_string(pick(rng))));
    CHECK(disagreements_with_reference(capacity, picks, window) == 0);
  }
}

TEST_CASE("fingerprints that share their low bits, in one long probe run, still answer as a FIFO") {
  // Every fingerprint has the same home slot: the index is one run that wraps around, and each
  // forgotten id leaves a hole that later members are shifted into.
  for (std::size_t capacity : {3, 8, 100}) {
    CAPTURE(capacity);
    message_id_window window(capacity);
    std::mt19937_64 rng(capacity + 11);
    std::uniform_int_distribution<std::uint64_t> pick(1, capacity * 2);
    std::vector<std::uint64_t> picks;
    for (int i = 0; i < 20000; ++i)
      picks.push_back(pick(rng) << 40 | 5);
    CHECK(disagreements_with_reference(capacity, picks, window) == 0);
  }
}

namespace {

std::vector<std::uint64_t> latest(const message_id_window& window, std::size_t n) {
  std::vector<std::uint64_t> out;
  window.for_each_latest(n, [&](std::uint64_t f) { out.push_back(f); });
  return out;
}

std::vector<std::uint64_t> fps(std::initializer_list<std::string_view> ids) {
  std::vector<std::uint64_t> out;
  for (std::string_view id : ids)
    out.push_back(fp(id));
  return out;
}

} // namespace

TEST_CASE("the latest ids are visited oldest first, across the ring's wrap") {
  message_id_window window(3);
  CHECK(latest(window, 5).empty());
  CHECK(window.first_time(fp("a")));
  CHECK(window.first_time(fp("b")));
  CHECK(latest(window, 5) == fps({"a", "b"}));
  CHECK(window.first_time(fp("c")));
  CHECK(window.first_time(fp("d")));  // forgets a; the ring has wrapped
  CHECK(window.first_time(fp("e")));  // forgets b
  CHECK(latest(window, 3) == fps({"c", "d", "e"}));
  CHECK(latest(window, 100) == fps({"c", "d", "e"}));
  CHECK(latest(window, 2) == fps({"d", "e"}));
  CHECK(latest(window, 1) == fps({"e"}));
  CHECK(latest(window, 0).empty());
}

TEST_CASE("a window rebuilt from its fingerprints, oldest first, answers and forgets as the original") {
  for (std::size_t capacity : {1, 5, 64}) {
    CAPTURE(capacity);
    message_id_window original(capacity);
    std::mt19937_64 rng(capacity + 7);
    std::uniform_int_distribution<int> pick(0, static_cast<int>(capacity * 3));
    for (int i = 0; i < 1000; ++i)
      original.first_time(fp("id-" + std::to_string(pick(rng))));
    message_id_window rebuilt(capacity);
    for (std::uint64_t f : latest(original, original.size()))
      CHECK(rebuilt.first_time(f));
    CHECK(rebuilt.size() == original.size());
    CHECK(latest(rebuilt, capacity) == latest(original, capacity));
    int disagreements = 0;
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t f = fp("id-" + std::to_string(pick(rng)));
      disagreements += original.first_time(f) != rebuilt.first_time(f);
    }
    CHECK(disagreements == 0);
  }
}

TEST_CASE("prefetching a batch's ids, however far ahead, changes no answer") {
  // prefetch reads the ring at the place of the id an insertion `ahead` from now forgets:
  // any `ahead` stays within it (ASan builds check), and answers match a window never hinted.
  for (std::size_t capacity : {1, 5, 64}) {
    CAPTURE(capacity);
    message_id_window hinted(capacity);
    message_id_window plain(capacity);
    std::mt19937_64 rng(capacity + 11);
    std::uniform_int_distribution<int> pick(0, static_cast<int>(capacity * 3));
    int disagreements = 0;
    for (int batch = 0; batch < 100; ++batch) {
      std::vector<std::uint64_t> ids;
      for (int i = 0; i < 40; ++i)
        ids.push_back(fp("id-" + std::to_string(pick(rng))));
      for (std::size_t i = 0; i < ids.size(); ++i)
        hinted.prefetch(ids[i], i * 7);  // beyond the capacity too
      for (std::uint64_t f : ids)
        disagreements += hinted.first_time(f) != plain.first_time(f);
    }
    CHECK(disagreements == 0);
    CHECK(latest(hinted, capacity) == latest(plain, capacity));
  }
}
