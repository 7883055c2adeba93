// The latest frame of a feed and its watchers.
#include "telluride/http/event_feed.hpp"

#include <doctest/doctest.h>

using namespace telluride::http;

TEST_CASE("a feed keeps only its latest frame, numbered from 1") {
  event_feed feed;
  CHECK(feed.latest().serial == 0);
  CHECK(feed.latest().bytes == nullptr);
  feed.publish("first");
  feed.publish("second");
  auto frame = feed.latest();
  CHECK(frame.serial == 2);
  REQUIRE(frame.bytes);
  CHECK(*frame.bytes == "second");
}

TEST_CASE("every watcher is woken on each publish until it stops watching") {
  event_feed feed;
  int a = 0;
  int b = 0;
  auto id_a = feed.watch([&] { ++a; });
  feed.watch([&] { ++b; });
  CHECK(feed.watchers() == 2);
  feed.publish("x");
  feed.unwatch(id_a);
  feed.publish("y");
  CHECK(a == 1);
  CHECK(b == 2);
  CHECK(feed.watchers() == 1);
}
