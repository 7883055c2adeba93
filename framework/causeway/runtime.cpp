#include "causeway/runtime.hpp"

#include <algorithm>
#include <thread>

namespace causeway {

runtime_config::runtime_config(std::size_t workers) {
  if (workers == 0)
    workers = std::max(1u, std::thread::hardware_concurrency());
  set("scheduler.max-threads", workers);
  // Idle workers must sleep, not spin: the broker shares these cores.
  set("work-stealing.aggressive-poll-attempts", 0);
  set("work-stealing.moderate-poll-attempts", 0);
}

} // namespace causeway
