// due_queue.hpp — work waiting for its time: added with a due time, cancelled by ticket, taken
// once due, earliest first (then in the order added). The timer service keeps its timers in
// one, an AMQP connection its alarms. Not thread-safe: its owner locks, or keeps it on one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace causeway::detail {

class due_queue {
public:
  using clock = std::chrono::steady_clock;
  /// Names one piece of work; never 0.
  using ticket = std::uint64_t;

  ticket add(clock::time_point due, std::function<void()> work);
  /// Takes the work out (for the caller to destroy where it likes); empty when the ticket is
  /// unknown, taken already, or 0.
  std::function<void()> remove(ticket t);
  /// Takes out the work due at `now`, earliest first.
  std::vector<std::function<void()>> take_due(clock::time_point now);
  /// Takes out everything.
  std::vector<std::function<void()>> take_all();
  /// When the earliest work is due; none when empty.
  std::optional<clock::time_point> earliest() const;
  std::size_t size() const noexcept { return work_.size(); }
  bool empty() const noexcept { return work_.empty(); }

private:
  std::map<std::pair<clock::time_point, ticket>, std::function<void()>> work_;
  std::map<ticket, clock::time_point> due_of_;
  ticket last_ = 0;
};

} // namespace causeway::detail
