// control_counters.hpp — counted outcomes of the control path, for /metrics.
//
// The config actor counts what it applied and rejected, and the exceptions its handlers
// caught; the status probe reads them. Lock-free.
#pragma once

#include <atomic>
#include <cstdint>

namespace telluride {

struct control_counters {
  std::atomic<std::uint64_t> config_applied{0};
  std::atomic<std::uint64_t> config_rejected{0};
  /// Exceptions caught in a handler of the daemon's own actors (each settled its message).
  std::atomic<std::uint64_t> handler_errors{0};
};

} // namespace telluride
