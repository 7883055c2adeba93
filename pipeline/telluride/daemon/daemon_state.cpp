#include "telluride/daemon/daemon_state.hpp"

namespace telluride {

std::optional<std::string> daemon_state::not_ready_reason() const {
  if (!consuming.load())
    return "the readings pipeline is restarting";
  auto source = readings->current();
  if (!source || !source->connection()->is_connected())
    return "the broker connection is down";
  return parts.first_problem();
}

} // namespace telluride
