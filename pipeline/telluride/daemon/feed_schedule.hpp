// feed_schedule.hpp — when the live feed publishes a snapshot: every interval, and at once when
// the config version, the shards' ownership or the daemon's status (ready, or why not) changed
// since the last one, so a viewer sees a drain or a lost broker when it starts and when it ends.
//
// Pure: times, the version and the ownership are passed in; the live feed (live_feed.hpp) asks
// it a few times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace telluride {

class feed_schedule {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit feed_schedule(std::chrono::milliseconds interval) : interval_(interval) {}

  /// Whether a snapshot is due at `now`: none was published yet, `interval` has passed since
  /// the last, or `config_version`, `ownership` (shard owners and states, as text) or `status`
  /// (why the daemon is not ready, empty when it is) differ from the last one's.
  bool is_due(time_point now, std::uint64_t config_version, const std::string& ownership,
              const std::string& status) const {
    return !last_ || now - last_->at >= interval_ || config_version != last_->config_version ||
           ownership != last_->ownership || status != last_->status;
  }

  /// A snapshot of this version, ownership and status was published at `now`.
  void published(time_point now, std::uint64_t config_version, std::string ownership, std::string status) {
    last_ = last_publish{now, config_version, std::move(ownership), std::move(status)};
  }

  /// Nothing counts as published: the next is_due is true (nobody saw the last one).
  void forget() noexcept { last_.reset(); }

private:
  struct last_publish {
    time_point at;
    std::uint64_t config_version = 0;
    std::string ownership;
    std::string status;
  };
  std::chrono::milliseconds interval_;
  std::optional<last_publish> last_;
};

} // namespace telluride
