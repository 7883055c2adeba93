#include "telluride/daemon/part_health.hpp"

#include <algorithm>

namespace telluride {

void part_health::set_down(std::string_view part, std::string reason) {
  std::lock_guard guard{mutex_};
  auto it = std::find_if(down_.begin(), down_.end(), [&](const down_part& d) { return d.part == part; });
  if (it != down_.end())
    it->reason = std::move(reason);
  else
    down_.push_back(down_part{std::string(part), std::move(reason)});
}

void part_health::set_up(std::string_view part) {
  std::lock_guard guard{mutex_};
  std::erase_if(down_, [&](const down_part& d) { return d.part == part; });
}

std::optional<std::string> part_health::first_problem() const {
  std::lock_guard guard{mutex_};
  if (down_.empty())
    return std::nullopt;
  return down_.front().part + ": " + down_.front().reason;
}

} // namespace telluride
