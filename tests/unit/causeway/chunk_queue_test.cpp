// Claims about chunk_queue: a FIFO of messages that hands whole vectors on untouched.
#include "causeway/detail/chunk_queue.hpp"

#include "string_makers.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using causeway::message;
using causeway::detail::chunk_queue;

namespace {

using strings = std::vector<std::string>;

std::vector<message> chunk(const strings& data) {
  std::vector<message> out;
  for (const auto& d : data)
    out.emplace_back(d);
  return out;
}

/// Pushes a chunk of `data` and returns where its messages are stored.
const message* push_chunk(chunk_queue& q, const strings& data) {
  auto pushed = chunk(data);
  const auto* storage = pushed.data();
  q.push(std::move(pushed));
  return storage;
}

strings data_of(const std::vector<message>& msgs) {
  strings out;
  for (const auto& m : msgs)
    out.push_back(m.data);
  return out;
}

} // namespace

TEST_CASE("a new queue is empty") {
  chunk_queue q;
  CHECK(q.empty());
  CHECK(q.size() == 0);
  CHECK(q.take(5).empty());
}

TEST_CASE("taking a whole front chunk hands on the same vector") {
  chunk_queue q;
  const auto* storage = push_chunk(q, {"a", "b", "c"});
  q.push(chunk({"d"}));
  CHECK(q.size() == 4);

  auto out = q.take(3);
  CHECK(out.data() == storage);
  CHECK(data_of(out) == strings{"a", "b", "c"});
  CHECK(q.size() == 1);
  CHECK(data_of(q.take(1)) == strings{"d"});
  CHECK(q.empty());
}

TEST_CASE("taking most of an untouched chunk hands on the same vector and keeps the rest queued") {
  chunk_queue q;
  const auto* storage = push_chunk(q, {"a", "b", "c", "d", "e"});
  q.push(chunk({"f"}));

  SUBCASE("the rest is taken next") {
    auto head = q.take(3);
    CHECK(head.data() == storage);  // the messages left behind moved, not the ones taken
    CHECK(data_of(head) == strings{"a", "b", "c"});
    CHECK(q.size() == 3);
    CHECK(data_of(q.take(2)) == strings{"d", "e"});
    CHECK(data_of(q.take(5)) == strings{"f"});
  }
  SUBCASE("single messages pushed after it come after the rest") {
    CHECK(data_of(q.take(3)) == strings{"a", "b", "c"});
    q.push(message{"g"});
    CHECK(q.size() == 4);
    CHECK(data_of(q.take(10)) == strings{"d", "e", "f", "g"});
  }
  SUBCASE("the rest a message at a time") {
    auto head = q.take(3);
    CHECK(head.data() == storage);
    CHECK(data_of(q.take(1)) == strings{"d"});
    CHECK(data_of(q.take(1)) == strings{"e"});
    CHECK(data_of(q.take(1)) == strings{"f"});
  }
  CHECK(q.empty());
}

TEST_CASE("taking less than half of a chunk moves the messages taken") {
  chunk_queue q;
  const auto* storage = push_chunk(q, {"a", "b", "c", "d", "e"});
  auto head = q.take(2);
  CHECK(head.data() != storage);
  CHECK(data_of(head) == strings{"a", "b"});
  CHECK(q.size() == 3);
  CHECK(data_of(q.take(3)) == strings{"c", "d", "e"});
  CHECK(q.empty());
}

TEST_CASE("partial takes keep FIFO order across chunk boundaries") {
  chunk_queue q;
  q.push(chunk({"a", "b", "c"}));
  q.push(chunk({"d", "e"}));
  q.push(chunk({"f", "g", "h", "i"}));
  REQUIRE(q.size() == 9);

  struct step {
    std::size_t asked;
    strings expected;
    std::size_t left;
  };
  const std::vector<step> steps{
    {2, {"a", "b"}, 7},            // inside the first chunk
    {2, {"c", "d"}, 5},            // across the first boundary
    {4, {"e", "f", "g", "h"}, 1},  // across the second boundary
    {5, {"i"}, 0},                 // more than is left: what is left
    {1, {}, 0},
  };
  for (const auto& s : steps) {
    CAPTURE(s.asked);
    CHECK(data_of(q.take(s.asked)) == s.expected);
    CHECK(q.size() == s.left);
  }
  CHECK(q.empty());
}

TEST_CASE("taking more than one chunk's worth concatenates chunks in order") {
  chunk_queue q;
  q.push(chunk({"a", "b"}));
  q.push(chunk({"c", "d"}));
  CHECK(data_of(q.take(4)) == strings{"a", "b", "c", "d"});
  CHECK(q.empty());
}

TEST_CASE("taking zero removes nothing") {
  chunk_queue q;
  q.push(chunk({"a"}));
  CHECK(q.take(0).empty());
  CHECK(q.size() == 1);
}

TEST_CASE("an empty chunk is not queued") {
  chunk_queue q;
  q.push(std::vector<message>{});
  CHECK(q.empty());
  q.push(chunk({"a"}));
  q.push(std::vector<message>{});
  CHECK(q.size() == 1);
  CHECK(data_of(q.take(2)) == strings{"a"});
}

TEST_CASE("single messages are appended behind the queued ones") {
  chunk_queue q;
  q.push(message{"a"});
  q.push(message{"b"});
  CHECK(q.size() == 2);
  q.push(chunk({"c", "d"}));
  q.push(message{"e"});
  CHECK(q.size() == 5);
  CHECK_FALSE(q.empty());
  CHECK(data_of(q.take(5)) == strings{"a", "b", "c", "d", "e"});
  CHECK(q.empty());
}

TEST_CASE("single messages pushed after a partial take come after the rest") {
  chunk_queue q;
  q.push(chunk({"a", "b", "c"}));
  CHECK(data_of(q.take(1)) == strings{"a"});
  q.push(message{"d"});
  q.push(message{"e"});
  CHECK(q.size() == 4);
  CHECK(data_of(q.take(1)) == strings{"b"});
  CHECK(data_of(q.take(10)) == strings{"c", "d", "e"});
  CHECK(q.empty());
}

TEST_CASE("many single messages keep their order past the chunk limit") {
  chunk_queue q;
  constexpr std::size_t count = 10'000;  // more than one internal chunk holds
  for (std::size_t i = 0; i < count; ++i)
    q.push(message{std::to_string(i)});
  REQUIRE(q.size() == count);
  std::size_t next = 0;
  while (!q.empty()) {
    for (const auto& m : q.take(3000)) {
      REQUIRE(m.data == std::to_string(next));
      ++next;
    }
  }
  CHECK(next == count);
}
