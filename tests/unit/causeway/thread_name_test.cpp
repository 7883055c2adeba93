#include "causeway/thread_name.hpp"

#include <doctest/doctest.h>

#include <pthread.h>

#include <string>
#include <thread>

namespace thread_name_test {

namespace {

std::string name_of_this_thread() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

} // namespace

TEST_CASE("a thread's name is what /proc and perf show, cut to Linux's 15 bytes") {
  std::string short_name, long_name;
  std::thread{[&] {
    causeway::name_this_thread("ckpt-writer");
    short_name = name_of_this_thread();
    causeway::name_this_thread("a-name-longer-than-fifteen-bytes");
    long_name = name_of_this_thread();
  }}.join();
  CHECK(short_name == "ckpt-writer");
  CHECK(long_name == "a-name-longer-t");
}

} // namespace thread_name_test
