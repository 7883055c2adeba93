#include "causeway/runtime.hpp"

#include "causeway/detail/deferred_sharing.hpp"

#include <caf/scheduler/coordinator.hpp>

#include <algorithm>
#include <thread>

namespace causeway {

runtime_config::runtime_config(std::size_t workers) {
  if (workers == 0)
    workers = std::max(1u, std::thread::hardware_concurrency());
  set("scheduler.max-threads", workers);
  // Idle workers must sleep, not spin or poll: the broker shares these cores. Work sharing (one
  // queue, workers wake when a job is queued) instead of CAF's default work stealing, whose
  // sleeping workers wake every 10 ms to look for work to steal: an idle daemon spent 0.9 % of
  // a core on that alone (of 1.1 %; 0.4 % in all with sharing), and drains measured as fast.
  set("scheduler.policy", caf::atom("sharing"));
  // ...with fewer wake-ups: a stage's message to the next stage waits for the sending worker
  // instead of waking another (detail/deferred_sharing.hpp). In the daemon at a paced 5,000
  // readings/s this cut each CAF worker's context switches from ~57 to ~20 per 1000 readings
  // (allowing 2 waiting jobs; 8 now, ~9 per 1000).
  load<caf::scheduler::coordinator<detail::deferred_sharing>>();
}

} // namespace causeway
