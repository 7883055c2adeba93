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

TEST_CASE("a feed counts its viewers, asks its publisher when the first arrives, and drops its frame when the last leaves") {
  event_feed feed;
  int asked = 0;
  feed.on_demand([&] { ++asked; });
  feed.publish("before anyone looked");
  CHECK(feed.viewers() == 0);

  feed.add_viewer();
  CHECK(asked == 1);
  feed.add_viewer();
  CHECK(asked == 1);  // only a feed nobody viewed asks
  CHECK(feed.viewers() == 2);
  REQUIRE(feed.latest().bytes);  // a frame published before the viewers came is theirs
  CHECK(*feed.latest().bytes == "before anyone looked");

  feed.remove_viewer();
  REQUIRE(feed.latest().bytes);
  feed.remove_viewer();
  CHECK(feed.viewers() == 0);
  // Stale by the time anyone views again: gone, its serial kept.
  CHECK(feed.latest().bytes == nullptr);
  CHECK(feed.latest().serial == 1);
  feed.remove_viewer();  // one too many: ignored
  CHECK(feed.viewers() == 0);

  feed.add_viewer();
  CHECK(asked == 2);
  feed.publish("fresh");
  CHECK(feed.latest().serial == 2);
  CHECK(*feed.latest().bytes == "fresh");

  feed.remove_viewer();
  feed.on_demand(nullptr);  // the publisher went away: nobody is asked
  feed.add_viewer();
  CHECK(asked == 2);
}
