// part_health.hpp — which of the daemon's parts are down, and why.
//
// The parts that keep running beside the readings pipeline (the config handler, the
// reporter) are watched by part supervisors; a part that stops is marked down here with the
// reason until it runs again. `/readyz` answers 503 with the first reason while any part is
// down, so a stopped config handler is never hidden behind a 200. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

class part_health {
public:
  /// Marks `part` down (again) with `reason`.
  void set_down(std::string_view part, std::string reason);
  /// Marks `part` running.
  void set_up(std::string_view part);
  /// "PART: REASON" of the part marked down first, or nothing when all run.
  std::optional<std::string> first_problem() const;

private:
  struct down_part {
    std::string part;
    std::string reason;
  };
  mutable std::mutex mutex_;
  std::vector<down_part> down_;  // in the order they went down
};

} // namespace telluride
