#include "causeway/detail/due_queue.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

namespace due_queue_test {

using causeway::detail::due_queue;
using namespace std::chrono_literals;

TEST_CASE("a due queue gives out what is due, earliest first and in the order added when due together") {
  due_queue q;
  std::vector<int> ran;
  auto note = [&](int id) { return [&ran, id] { ran.push_back(id); }; };
  const auto now = due_queue::clock::now();
  const auto late = q.add(now + 30ms, note(4));
  q.add(now + 10ms, note(1));
  q.add(now + 20ms, note(2));
  q.add(now + 20ms, note(3));  // due with 2, added after it
  CHECK(q.size() == 4);
  CHECK(q.earliest() == now + 10ms);
  CHECK(q.take_due(now).empty());
  for (auto& work : q.take_due(now + 20ms))
    work();
  CHECK(ran == std::vector<int>{1, 2, 3});
  CHECK(q.earliest() == now + 30ms);
  // Removed, the work comes back to the caller and is never due.
  auto removed = q.remove(late);
  REQUIRE(removed);
  removed();
  CHECK(ran == std::vector<int>{1, 2, 3, 4});
  CHECK_FALSE(q.remove(late));
  CHECK_FALSE(q.remove(0));
  CHECK(q.empty());
  CHECK_FALSE(q.earliest());
  CHECK(q.take_due(now + 1h).empty());
}

TEST_CASE("take_all empties a due queue, and its tickets are never given again") {
  due_queue q;
  const auto now = due_queue::clock::now();
  const auto first = q.add(now + 1h, [] {});
  const auto second = q.add(now - 1h, [] {});
  CHECK(first != 0);
  CHECK(second != first);
  CHECK(q.take_all().size() == 2);
  CHECK(q.empty());
  CHECK_FALSE(q.remove(first));
  const auto third = q.add(now, [] {});
  CHECK(third != first);
  CHECK(third != second);
}

} // namespace due_queue_test
