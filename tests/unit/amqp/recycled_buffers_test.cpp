#include "causeway/amqp/recycled_buffers.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace recycled_buffers_test {

using causeway::message;
using causeway::amqp::recycled_buffers;

message filled(std::size_t body_size) {
  message m(std::string(body_size, 'b'));
  m.metadata.add("redelivered", "false");
  m.metadata.add("routing_key", "sensor.reading");
  return m;
}

TEST_CASE("buffers given back are taken one by one, emptied, with their allocations") {
  recycled_buffers pool(8);
  std::vector<message> done;
  done.push_back(filled(100));
  done.push_back(filled(300));
  const char* bodies[] = {done[0].data.data(), done[1].data.data()};
  const auto body_capacity = done[1].data.capacity();
  const auto metadata_capacity = done[1].metadata.capacity();
  pool.give(done);
  CHECK(pool.held() == 2);
  CHECK(done[0].data.empty());  // moved out: the stage destroys an empty message
  CHECK(done[0].metadata.empty());

  std::string body = "leftover";
  causeway::metadata md;
  md.add("stale", "entry");
  REQUIRE(pool.take(body, md));
  CHECK(body.empty());
  CHECK(md.empty());
  CHECK(body.data() == bodies[0]);  // the first given, first taken: the longest out of the giver's cache
  REQUIRE(pool.take(body, md));
  CHECK(body.data() == bodies[1]);
  CHECK(body.capacity() == body_capacity);
  CHECK(md.capacity() == metadata_capacity);
  CHECK_FALSE(pool.take(body, md));
  CHECK(pool.held() == 0);
}

TEST_CASE("short bodies, bodies past max_capacity and what exceeds max_held are not kept") {
  recycled_buffers pool(3, 1000);
  std::vector<message> done;
  done.push_back(filled(5));     // lives inside the string: nothing to reuse
  done.push_back(filled(2000));  // a large body is not held for small ones
  for (int i = 0; i < 5; ++i)
    done.push_back(filled(200));
  pool.give(done);
  CHECK(pool.held() == 3);
  CHECK(done[0].data.size() == 5);
  CHECK(done[1].data.size() == 2000);
  CHECK(done[5].data.size() == 200);  // the pool was full: freed where it is

  // Taken ones make room on the other side only once the connection thread needs more.
  std::string body;
  causeway::metadata md;
  REQUIRE(pool.take(body, md));
  CHECK(body.capacity() >= 200);
  CHECK(body.capacity() <= 1000);
  pool.give(std::span<message>{done}.subspan(5));
  CHECK(pool.held() == 4);  // 2 ready on the connection thread's side, 2 given back
}

} // namespace recycled_buffers_test
