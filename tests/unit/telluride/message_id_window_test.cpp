#include "telluride/domain/message_id_window.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

using telluride::message_id_window;

TEST_CASE("an id is new the first time only") {
  message_id_window window(10);
  CHECK(window.first_time("msg-1"));
  CHECK_FALSE(window.first_time("msg-1"));
  CHECK(window.first_time("msg-2"));
  CHECK(window.size() == 2);
  CHECK(window.contains("msg-1"));
  CHECK_FALSE(window.contains("msg-3"));
}

TEST_CASE("when full, the oldest id is forgotten first") {
  message_id_window window(3);
  CHECK(window.first_time("a"));
  CHECK(window.first_time("b"));
  CHECK(window.first_time("c"));
  CHECK(window.first_time("d"));  // forgets a
  CHECK(window.size() == 3);
  CHECK_FALSE(window.contains("a"));
  CHECK_FALSE(window.first_time("b"));
  CHECK_FALSE(window.first_time("c"));
  CHECK_FALSE(window.first_time("d"));
  CHECK(window.first_time("a"));  // forgets b
  CHECK(window.first_time("b"));  // forgets c
  CHECK_FALSE(window.first_time("d"));
}

TEST_CASE("seeing an id again does not make it younger") {
  message_id_window window(2);
  CHECK(window.first_time("a"));
  CHECK(window.first_time("b"));
  CHECK_FALSE(window.first_time("a"));
  CHECK(window.first_time("c"));  // forgets a, the oldest, although it was just seen
  CHECK_FALSE(window.contains("a"));
  CHECK(window.contains("b"));
}

TEST_CASE("a capacity of 0 remembers one id") {
  message_id_window window(0);
  CHECK(window.capacity() == 1);
  CHECK(window.first_time("a"));
  CHECK_FALSE(window.first_time("a"));
  CHECK(window.first_time("b"));
  CHECK(window.first_time("a"));
}

TEST_CASE("empty and long ids are ids like any other") {
  message_id_window window(4);
  const std::string long_id(1000, 'z');
  CHECK(window.first_time(""));
  CHECK_FALSE(window.first_time(""));
  CHECK(window.first_time(long_id));
  CHECK_FALSE(window.first_time(long_id));
  CHECK(window.first_time(long_id + "!"));
}

TEST_CASE("the window answers like a reference FIFO over 200,000 random ids") {
  // Few distinct ids and long probe runs exercise eviction from the middle of a run.
  for (std::size_t capacity : {1, 2, 7, 64, 1000}) {
    message_id_window window(capacity);
    std::deque<std::string> order;
    std::unordered_set<std::string> remembered;
    std::mt19937_64 rng(capacity);
    std::uniform_int_distribution<int> pick(0, static_cast<int>(capacity * 3));
    int disagreements = 0;
    for (int i = 0; i < 200000; ++i) {
      const std::string id = "id-" + std::to_string(pick(rng));
      const bool expected = remembered.insert(id).second;
      if (expected) {
        order.push_back(id);
        if (order.size() > capacity) {
          remembered.erase(order.front());
          order.pop_front();
        }
      }
      disagreements += window.first_time(id) != expected;
    }
    CAPTURE(capacity);
    CHECK(disagreements == 0);
    CHECK(window.size() == order.size());
    for (const std::string& id : order)
      CHECK(window.contains(id));
  }
}

namespace {

std::vector<std::string> latest(const message_id_window& window, std::size_t n) {
  std::vector<std::string> out;
  window.for_each_latest(n, [&](std::string_view id) { out.emplace_back(id); });
  return out;
}

} // namespace

TEST_CASE("the latest ids are visited oldest first, across the ring's wrap") {
  message_id_window window(3);
  CHECK(latest(window, 5).empty());
  CHECK(window.first_time("a"));
  CHECK(window.first_time("b"));
  CHECK(latest(window, 5) == std::vector<std::string>{"a", "b"});
  CHECK(window.first_time("c"));
  CHECK(window.first_time("d"));  // forgets a; the ring has wrapped
  CHECK(window.first_time("e"));  // forgets b
  CHECK(latest(window, 3) == std::vector<std::string>{"c", "d", "e"});
  CHECK(latest(window, 100) == std::vector<std::string>{"c", "d", "e"});
  CHECK(latest(window, 2) == std::vector<std::string>{"d", "e"});
  CHECK(latest(window, 1) == std::vector<std::string>{"e"});
  CHECK(latest(window, 0).empty());
}

TEST_CASE("a window rebuilt from its ids, oldest first, answers and forgets as the original") {
  for (std::size_t capacity : {1, 5, 64}) {
    CAPTURE(capacity);
    message_id_window original(capacity);
    std::mt19937_64 rng(capacity + 7);
    std::uniform_int_distribution<int> pick(0, static_cast<int>(capacity * 3));
    for (int i = 0; i < 1000; ++i)
      original.first_time("id-" + std::to_string(pick(rng)));
    message_id_window rebuilt(capacity);
    for (const std::string& id : latest(original, original.size()))
      CHECK(rebuilt.first_time(id));
    CHECK(rebuilt.size() == original.size());
    CHECK(latest(rebuilt, capacity) == latest(original, capacity));
    int disagreements = 0;
    for (int i = 0; i < 1000; ++i) {
      const std::string id = "id-" + std::to_string(pick(rng));
      disagreements += original.first_time(id) != rebuilt.first_time(id);
    }
    CHECK(disagreements == 0);
  }
}
