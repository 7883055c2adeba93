// thread_name.hpp — names the calling thread as top, perf, /proc/PID/task/*/comm and the
// benchmarks' per-thread reports show it. Linux keeps 15 bytes: a longer name is cut.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace causeway {

inline void name_this_thread(std::string_view name) {
  constexpr std::size_t linux_limit = 15;
  const std::string cut{name.substr(0, linux_limit)};
  pthread_setname_np(pthread_self(), cut.c_str());
}

} // namespace causeway
