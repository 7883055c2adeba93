#include "telluride/domain/message_id_window.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <random>
#include <string>
#include <unordered_set>

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
