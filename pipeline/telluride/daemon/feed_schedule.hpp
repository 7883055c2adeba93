// feed_schedule.hpp — when the live feed publishes a snapshot: every interval, and at once when
// the config version or the shards' ownership changed since the last one.
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
  /// the last, or `config_version` or `ownership` (shard owners and states, as text) differ
  /// from the last one's.
  bool is_due(time_point now, std::uint64_t config_version, const std::string& ownership) const {
    return !last_ || now - last_->at >= interval_ || config_version != last_->config_version ||
           ownership != last_->ownership;
  }

  /// A snapshot of this version and ownership was published at `now`.
  void published(time_point now, std::uint64_t config_version, std::string ownership) {
    last_ = last_publish{now, config_version, std::move(ownership)};
  }

private:
  struct last_publish {
    time_point at;
    std::uint64_t config_version = 0;
    std::string ownership;
  };
  std::chrono::milliseconds interval_;
  std::optional<last_publish> last_;
};

} // namespace telluride
