#include "telluride/daemon/daemon_state.hpp"

namespace telluride {

bool daemon_state::is_ready() const {
  if (!consuming.load())
    return false;
  auto source = readings->current();
  return source && source->connection()->is_connected();
}

} // namespace telluride
