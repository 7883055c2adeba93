// pipeline_event.hpp — what a supervisor reports about its topology: the events it sends its
// owner and the report of a finished drain. Plain values, without CAF, for the supervisor's
// lifecycle and its tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace causeway {

/// What a finished drain did.
struct drain_report {
  std::uint64_t messages = 0;  ///< messages acknowledged between the drain request and the end
  std::chrono::milliseconds duration{0};
  bool timed_out = false;      ///< the shutdown timeout cut it short
};

/// Something the supervisor wants the owner to know.
struct pipeline_event {
  /// started: the first generation runs; restarted: a later one runs (after a crash, or a
  /// restart with new options); crashed: a generation failed (or could not be created) and is
  /// replaced, at once the first time and with growing delays (100 ms .. 10 s) while each
  /// replacement fails within 10 s; drained: a drain finished.
  enum class kind : std::uint8_t { started, drained, crashed, restarted } what;
  std::uint64_t generation = 0;  ///< increases with every topology start (or attempt)
  std::string reason;            ///< for crashed: which stage and why, and when it retries
};

} // namespace causeway
