// plan.hpp — what every stage of one topology generation shares (internal).
#pragma once

#include "causeway/handler.hpp"
#include "causeway/options.hpp"
#include "causeway/telemetry.hpp"
#include "causeway/detail/shared_rate_limiter.hpp"
#include "causeway/detail/timer_service.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace causeway::topology {

/// Counters of one stage instance, written by the stage (relaxed, once per vector) and read
/// by introspection without asking the stage.
struct stage_counters {
  stage_kind kind;
  std::string name;
  std::size_t index = 0;
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> outstanding_demand{0};
};

struct plan {
  pipeline_options options;
  std::shared_ptr<causeway::handler> handler;
  std::shared_ptr<telemetry_sink> telemetry;
  std::shared_ptr<detail::shared_rate_limiter> limiter;
  /// The batchers' timeouts (cancellable, detail/timer_service.hpp); the supervisor's, shared by
  /// its generations. Null on CAF's test coordinator, whose virtual clock is the only clock
  /// there: the batchers then use delayed_send.
  std::shared_ptr<detail::timer_service> timers;
  /// Messages acknowledged by this generation's stages (successful and failed).
  std::atomic<std::uint64_t> acknowledged{0};

  /// Gives failed messages to the user's handle_failed. One that throws changes nothing: the
  /// messages are failed already and are acknowledged as such.
  void handle_failed(std::vector<message>& failed, const context& ctx) const;
  /// Acknowledges both vectors (acknowledger.hpp) and counts them in `acknowledged`.
  void acknowledge(std::vector<message>& successful, std::vector<message>& failed);
};

/// Times one call of a stage for the telemetry sink; free when there is no sink.
class telemetry_span {
public:
  telemetry_span(const plan& p, const stage_counters& c, std::size_t messages);
  void stop(telemetry_phase phase = telemetry_phase::stop);

private:
  telemetry_sink* sink_;
  const stage_counters& counters_;
  std::size_t messages_;
  std::chrono::steady_clock::time_point start_{};
};

} // namespace causeway::topology
