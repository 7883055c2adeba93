// The end-to-end tests' publisher waits for every confirm however RabbitMQ orders them.
#include "pending_confirms.hpp"

#include <doctest/doctest.h>

using telluride::test::pending_confirms;

TEST_CASE("publishes get the tags 1, 2, 3... and a multiple ack settles every one up to its tag") {
  pending_confirms p;
  CHECK(p.published() == 1);
  CHECK(p.published() == 2);
  CHECK(p.published() == 3);
  CHECK(p.settle(2, true) == 2);
  CHECK(p.count() == 1);
  CHECK(p.settle(3, true) == 1);
  CHECK(p.empty());
}

TEST_CASE("a single ack above unconfirmed tags, then a multiple ack over them, settles all of them") {
  // How RabbitMQ confirms 1..5 when 3 (a large body) is written first: ack 3, then ack 5 multiple.
  pending_confirms p;
  for (int i = 0; i < 5; ++i)
    p.published();
  CHECK(p.settle(3, false) == 1);
  CHECK(p.count() == 4);
  CHECK(p.settle(5, true) == 4);  // 1, 2, 4, 5: counting 5 - 3 would have left two pending forever
  CHECK(p.empty());
}

TEST_CASE("single acks in any order settle exactly their tag, and a repeated or unknown tag settles nothing") {
  pending_confirms p;
  for (int i = 0; i < 4; ++i)
    p.published();
  CHECK(p.settle(4, false) == 1);
  CHECK(p.settle(2, false) == 1);
  CHECK(p.settle(2, false) == 0);
  CHECK(p.settle(9, false) == 0);
  CHECK(p.count() == 2);
  CHECK(p.settle(1, true) == 1);
  CHECK(p.settle(3, false) == 1);
  CHECK(p.empty());
  CHECK(p.settle(4, true) == 0);
}
