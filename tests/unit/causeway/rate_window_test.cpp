// Claims about rate_window: at most `allowed` permits per `interval`, on a fixed grid.
#include "causeway/detail/rate_window.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

using causeway::rate_limit_options;
using causeway::detail::rate_window;
using namespace std::chrono_literals;

namespace {

using time_point = rate_window::time_point;
const time_point t0 = time_point{} + 1h;

rate_window limited(std::uint64_t allowed, std::chrono::milliseconds interval) {
  return rate_window{rate_limit_options{allowed, interval}};
}

} // namespace

TEST_CASE("a window grants exactly `allowed` permits") {
  auto w = limited(5, 100ms);
  struct step {
    std::chrono::milliseconds at;
    std::size_t asked;
    std::size_t granted;
  };
  const std::vector<step> steps{
    {0ms, 2, 2},   // opens the window
    {10ms, 2, 2},
    {20ms, 4, 1},  // only one left
    {30ms, 1, 0},
    {99ms, 3, 0},  // still the same window
  };
  for (const auto& s : steps) {
    CAPTURE(s.at.count());
    CHECK(w.take(s.asked, t0 + s.at) == s.granted);
  }
}

TEST_CASE("the next window opens `interval` after the first take") {
  auto w = limited(3, 100ms);
  CHECK(w.take(3, t0 + 40ms) == 3);  // the window opens at 40 ms
  CHECK(w.take(1, t0 + 100ms) == 0);
  CHECK(w.take(1, t0 + 139ms) == 0);
  CHECK(w.take(5, t0 + 140ms) == 3);
  CHECK(w.take(1, t0 + 239ms) == 0);
  CHECK(w.take(1, t0 + 240ms) == 1);
}

TEST_CASE("permits left over do not carry into the next window") {
  auto w = limited(4, 100ms);
  CHECK(w.take(1, t0) == 1);
  CHECK(w.take(10, t0 + 100ms) == 4);
}

TEST_CASE("windows stay on the interval grid for a steady sender") {
  auto w = limited(2, 100ms);
  CHECK(w.take(2, t0) == 2);
  // Late by 50 ms: the window is [200, 300), not [250, 350).
  CHECK(w.take(2, t0 + 250ms) == 2);
  CHECK(w.next_permit(t0 + 250ms) == t0 + 300ms);
  CHECK(w.take(2, t0 + 300ms) == 2);
  CHECK(w.take(2, t0 + 399ms) == 0);
  CHECK(w.take(2, t0 + 400ms) == 2);
}

TEST_CASE("a steady sender gets exactly `allowed` per interval over many intervals") {
  auto w = limited(10, 100ms);
  std::size_t granted = 0;
  for (auto at = 0ms; at < 1000ms; at += 7ms)
    granted += w.take(3, t0 + at);
  CHECK(granted == 100);
}

TEST_CASE("allowed 0 means unlimited") {
  auto w = limited(0, 100ms);
  CHECK(w.is_unlimited());
  CHECK(w.take(1'000'000, t0) == 1'000'000);
  CHECK(w.take(1'000'000, t0 + 1ms) == 1'000'000);
  CHECK(w.next_permit(t0 + 1ms) == t0 + 1ms);
}

TEST_CASE("the default window is unlimited with a one second interval") {
  rate_window w;
  CHECK(w.is_unlimited());
  CHECK(w.limit().allowed == 0);
  CHECK(w.limit().interval == 1000ms);
}

TEST_CASE("next_permit is now while permits are left, else the end of the window") {
  auto w = limited(2, 100ms);
  CHECK(w.next_permit(t0) == t0);  // no window yet
  CHECK(w.take(1, t0) == 1);
  CHECK(w.next_permit(t0 + 10ms) == t0 + 10ms);
  CHECK(w.take(1, t0 + 10ms) == 1);
  CHECK(w.next_permit(t0 + 10ms) == t0 + 100ms);
  CHECK(w.next_permit(t0 + 99ms) == t0 + 100ms);
  CHECK(w.next_permit(t0 + 100ms) == t0 + 100ms);
  CHECK(w.next_permit(t0 + 170ms) == t0 + 170ms);
}

TEST_CASE("a raised limit applies at once and counts what the window used") {
  auto w = limited(2, 100ms);
  CHECK(w.take(2, t0) == 2);
  w.update({5, 100ms});
  CHECK(w.limit().allowed == 5);
  CHECK(w.next_permit(t0 + 10ms) == t0 + 10ms);
  CHECK(w.take(10, t0 + 10ms) == 3);
  CHECK(w.take(10, t0 + 100ms) == 5);
}

TEST_CASE("a limit lowered below what the window used grants nothing until the next window") {
  auto w = limited(10, 100ms);
  CHECK(w.take(6, t0) == 6);
  w.update({4, 100ms});
  CHECK(w.take(1, t0 + 50ms) == 0);
  CHECK(w.next_permit(t0 + 50ms) == t0 + 100ms);
  CHECK(w.take(10, t0 + 100ms) == 4);
}

TEST_CASE("a shorter interval ends the current window sooner") {
  auto w = limited(1, 1000ms);
  CHECK(w.take(1, t0) == 1);
  w.update({1, 100ms});
  CHECK(w.next_permit(t0 + 10ms) == t0 + 100ms);
  CHECK(w.take(1, t0 + 100ms) == 1);
  CHECK(w.take(1, t0 + 150ms) == 0);
}

TEST_CASE("switching between limited and unlimited") {
  auto w = limited(1, 100ms);
  CHECK(w.take(1, t0) == 1);
  w.update({0, 100ms});
  CHECK(w.is_unlimited());
  CHECK(w.take(50, t0 + 10ms) == 50);
  CHECK(w.next_permit(t0 + 10ms) == t0 + 10ms);

  w.update({3, 100ms});
  CHECK_FALSE(w.is_unlimited());
  CHECK(w.take(5, t0 + 500ms) == 3);
  CHECK(w.take(5, t0 + 550ms) == 0);
  CHECK(w.next_permit(t0 + 550ms) == t0 + 600ms);
}
