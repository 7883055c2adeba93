#include "telluride/domain/sensor_quota.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using telluride::sensor_quota;

TEST_CASE("a quota grants exactly max places, then refuses") {
  sensor_quota quota{3};
  CHECK(quota.max() == 3);
  CHECK(quota.try_take());
  CHECK(quota.try_take());
  CHECK(quota.try_take());
  CHECK(quota.taken() == 3);
  CHECK_FALSE(quota.try_take());
  CHECK_FALSE(quota.try_take());
  CHECK(quota.taken() == 3);
}

TEST_CASE("a quota of 0 admits nothing") {
  sensor_quota quota{0};
  CHECK_FALSE(quota.try_take());
  CHECK(quota.taken() == 0);
}

TEST_CASE("threads racing for places get exactly max of them") {
  sensor_quota quota{1000};
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (quota.try_take())
          ++granted;
    });
  for (auto& thread : threads)
    thread.join();
  CHECK(granted == 1000);
  CHECK(quota.taken() == 1000);
}

TEST_CASE("the bound sized from memory is a quarter of it at 256 bytes per sensor") {
  CHECK(telluride::budget_bytes_per_sensor == 256);
  CHECK(telluride::max_sensors_for_memory(std::uint64_t{24} << 30) == 25'165'824);
  CHECK(telluride::max_sensors_for_memory(1024) == 1);
  CHECK(telluride::max_sensors_for_memory(0) == 0);
}
