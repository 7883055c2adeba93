// membership.hpp — which members are alive, as one process sees it from their heartbeats.
//
// Every member announces itself (its name and the start id of its process) every second or
// so; a member not heard from for `lapse` (5 s) is gone. The view reports what changed, so the
// caller recomputes the shard assignment only when the set of live names changed. Pure: no
// clock of its own (every call carries the time), no I/O, not thread-safe.
//
// A process is a (name, start id) pair. A heartbeat with a known name and a new start id is a
// restart: the old process left and the new one joined (its shards' state in memory is gone,
// so whatever it held must be taken over as from a dead member). A heartbeat with a start id
// that an earlier restart replaced, or with this view's own name and another start id, means
// two live processes share a name: that is reported once as `clashed` and otherwise ignored.
// Names must be unique; the caller decides what to do (a daemon whose own name clashes should
// stop).
//
// The view's own process is always live. The others are judged only while the view hears
// heartbeats (its own come back through the broker too): after a silence of `deaf_after` the
// silence is on this side (a stalled process, a lost connection), and nobody leaves until the
// view hears again.
#pragma once

#include "causeway/expected.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::sharding {

struct membership_options {
  /// A member not heard from for this long is gone (> 0).
  std::chrono::milliseconds lapse{5000};
  /// At most this many live members, this view's own process included (>= 1).
  std::size_t max_members = 1024;
  /// With no heartbeat at all for this long the view is deaf and judges nobody (> 0).
  std::chrono::milliseconds deaf_after{2000};
};

enum class member_event : std::uint8_t { joined, left, clashed };

struct member_change {
  member_event what;
  std::string name;
  std::uint64_t start_id = 0;  ///< the process that joined, left, or was heard again (clashed)
  friend bool operator==(const member_change&, const member_change&) = default;
};
using member_changes = std::vector<member_change>;

class membership {
public:
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t max_name_bytes = 255;

  /// The view of process (`self`, `self_start_id`), listening since `started_at`; or an error
  /// naming a bad name or an option out of range.
  static expected<membership> create(std::string self, std::uint64_t self_start_id,
                                     clock::time_point started_at, membership_options options = {});

  /// A heartbeat of process (`name`, `start_id`) arrived at `at`. Returns what changed: nothing
  /// (a known process), {joined} (a new name, or a name that had lapsed), {left old, joined new}
  /// (a restart), {clashed} (the first heartbeat of another process with a live name). An
  /// error (an empty name, one longer than max_name_bytes or not UTF-8, or a new name when
  /// max_members are live) changes nothing.
  expected<member_changes> heard(std::string_view name, std::uint64_t start_id, clock::time_point at);

  /// Every other member whose last heartbeat is `lapse` or more before `now` leaves; returns
  /// them ({left}, by name). Nobody leaves while the view is deaf.
  member_changes expire(clock::time_point now);

  /// The live names, this view's own included, sorted (bytes): the input of the shard
  /// assignment. As of the last call.
  std::vector<std::string> live() const;
  bool is_live(std::string_view name) const;
  std::size_t size() const noexcept { return members_.size(); }
  const std::string& self() const noexcept { return self_; }
  /// The start id of the live process named `name`.
  std::optional<std::uint64_t> start_id_of(std::string_view name) const;

  /// Whether no heartbeat at all arrived in the `deaf_after` before `now` (or none ever).
  bool is_deaf(clock::time_point now) const noexcept;
  /// Whether `name` can be taken as gone at `now`: it is not live, the view is not deaf, and
  /// it has listened for a whole lapse, so a member that was alive when it started would have
  /// been heard (call expire(now) first). A shard whose holder is gone can be taken over.
  bool is_gone(std::string_view name, clock::time_point now) const;

  /// When the next other member lapses unless heard again (the time to call expire); none
  /// without other members.
  std::optional<clock::time_point> next_lapse() const;

private:
  struct member {
    std::uint64_t start_id = 0;
    clock::time_point last_heard{};
    std::vector<std::uint64_t> replaced;  // start ids of earlier processes of this name, oldest first
    std::vector<std::uint64_t> clashed;   // start ids already reported as clashing
  };

  membership(std::string self, std::uint64_t self_start_id, clock::time_point started_at,
             membership_options options);
  static member_changes clash(const std::string& name, member& m, std::uint64_t start_id);

  std::string self_;
  clock::time_point started_at_;
  membership_options options_;
  std::map<std::string, member, std::less<>> members_;
  std::optional<clock::time_point> latest_heard_;  // the latest heartbeat of anyone
};

} // namespace causeway::sharding
