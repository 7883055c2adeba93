#include "telluride/daemon/daemon_snapshot.hpp"

namespace telluride {

std::optional<std::string> readiness::problem() const {
  if (!consuming)
    return "the readings pipeline is restarting";
  if (!connected)
    return "the broker connection is down";
  return part_problem;
}

std::uint64_t daemon_snapshot::in_flight() const {
  auto settled = readings.acked + readings.rejected + readings.requeued + readings.dropped_acks;
  return readings.delivered > settled ? readings.delivered - settled : 0;
}

std::uint64_t daemon_snapshot::reconnects() const {
  return connection.connects > 0 ? connection.connects - 1 : 0;
}

} // namespace telluride
