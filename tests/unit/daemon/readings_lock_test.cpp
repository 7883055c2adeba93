// The readings lock's rule (readings_lock.hpp): when a readings channel about to consume declares
// the lock, and when the state must be restored first.
#include "telluride/daemon/readings_lock.hpp"

#include <doctest/doctest.h>

// Its own namespace: the unity build compiles several test files as one.
namespace readings_lock_test {

using namespace telluride;

TEST_CASE("a readings channel consumes on the lock it holds, and after a loss only where nothing needs restoring") {
  struct row {
    std::uint64_t at_take;
    std::uint64_t now;
    bool restores_after_loss;  // durable mode
    lock_step expected;
  };
  const row rows[] = {
    {0, 0, true, lock_step::declare},   // the first open, durable
    {0, 0, false, lock_step::declare},  // the first open, memory
    {3, 3, true, lock_step::declare},   // taken after three losses, none since
    {0, 1, true, lock_step::stale},     // lost since: another daemon may have consumed
    {2, 5, true, lock_step::stale},
    {0, 1, false, lock_step::declare},  // memory mode: takes it again and consumes on
  };
  for (const auto& r : rows) {
    CAPTURE(r.at_take);
    CAPTURE(r.now);
    CAPTURE(r.restores_after_loss);
    CHECK(next_lock_step(r.at_take, r.now, r.restores_after_loss) == r.expected);
  }
}

TEST_CASE("the readings lock is the readings queue's name with .lock") {
  CHECK(readings_lock_queue("sensor_reading_queue") == "sensor_reading_queue.lock");
}

} // namespace readings_lock_test
