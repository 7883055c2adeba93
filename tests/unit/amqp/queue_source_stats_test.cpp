#include "causeway/amqp/queue_source.hpp"

#include <doctest/doctest.h>

// Its own namespace: the unity build compiles several test files as one.
namespace queue_source_stats_test {

using causeway::amqp::queue_source_stats;

TEST_CASE("adding source stats adds every counter, the full windows' seconds too") {
  queue_source_stats sum{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0.25};
  sum += queue_source_stats{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 0.5};
  CHECK(sum.delivered == 101);
  CHECK(sum.handoffs == 202);
  CHECK(sum.deferred_handoffs == 303);
  CHECK(sum.redelivered == 404);
  CHECK(sum.recycled == 505);
  CHECK(sum.acked == 606);
  CHECK(sum.rejected == 707);
  CHECK(sum.requeued == 808);
  CHECK(sum.ack_frames == 909);
  CHECK(sum.dropped_acks == 1010);
  CHECK(sum.oversized == 1111);
  CHECK(sum.malformed == 1212);
  CHECK(sum.window_full == 1313);
  CHECK(sum.window_full_seconds == 0.75);
}

} // namespace queue_source_stats_test
