#include "causeway/topology/plan.hpp"

#include "causeway/acknowledger.hpp"

namespace causeway::topology {

void plan::handle_failed(std::vector<message>& failed, const context& ctx) const {
  try {
    handler->handle_failed(failed, ctx);
  } catch (...) {
    // The messages are failed already; a throwing handle_failed changes nothing.
  }
}

void plan::acknowledge(std::vector<message>& successful, std::vector<message>& failed) {
  auto count = successful.size() + failed.size();
  causeway::acknowledge(successful, failed);
  acknowledged.fetch_add(count, std::memory_order_relaxed);
}

telemetry_span::telemetry_span(const plan& p, const stage_counters& c, std::size_t messages)
  : sink_(p.telemetry.get()), counters_(c), messages_(messages) {
  if (sink_ == nullptr)
    return;
  start_ = std::chrono::steady_clock::now();
  sink_->on_event({counters_.kind, counters_.name, counters_.index, telemetry_phase::start,
                   messages_, std::chrono::nanoseconds{0}, std::chrono::system_clock::now()});
}

void telemetry_span::stop(telemetry_phase phase) {
  if (sink_ == nullptr)
    return;
  auto elapsed = std::chrono::steady_clock::now() - start_;
  sink_->on_event({counters_.kind, counters_.name, counters_.index, phase, messages_,
                   std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed),
                   std::chrono::system_clock::now()});
  sink_ = nullptr;
}

} // namespace causeway::topology
