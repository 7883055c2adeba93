// channel_group.hpp — the channels of one topology's producer stages on one source: one
// gathering of deliveries in the order the connection read them, handed to the stages by key.
//
// With several channels on a queue the broker hands consecutive messages to whichever channel
// has room, so one key's messages arrive on every channel. Gathered and handed on per channel,
// they would reach their processor through different producer stages, which race each other:
// per-key order would hold within a channel only. A group gathers what all its channels read
// into one vector, in read order, and hands each message to the stage `route_by` picks for it,
// so every message of one key goes through one stage, in read order. Without `route_by` each
// message goes to its own channel's stage, as before. A group of one channel hands the
// vector on whole, as a channel on its own would.
//
// Life of a group (queue_source.cpp): the source's factory makes producers 0..N-1 for a
// topology before any of them starts (supervisor.cpp); producer 0 opens a new group and the
// others join it. Each member registers its stage's sink as it starts; the channels start
// consuming once every member has. The stages hear `drained()` once every member's drain has
// ended, after the last hand-off: until then any channel may still bring a message for any
// stage.
//
// Connection thread only, but for `join` and `seal` (the factory's and the producers' threads,
// before any member is registered).
#pragma once

#include "causeway/amqp/queue_source.hpp"
#include "causeway/amqp/stall_rule.hpp"
#include "causeway/message.hpp"
#include "causeway/producer.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace causeway::amqp {
class channel;
}

namespace causeway::amqp::detail {

struct queue_channel_counters;

class channel_group {
public:
  channel_group(const queue_source_options& options, std::shared_ptr<queue_channel_counters> counters);

  // --- before the members start ---

  /// A new member; returns its position (0, 1, ...). Not after seal().
  std::size_t join() noexcept { return members_.fetch_add(1); }
  /// No member joins any more (the first member started).
  void seal() noexcept { sealed_.store(true); }
  bool is_sealed() const noexcept { return sealed_.load(); }
  std::size_t size() const noexcept { return members_.load(); }

  // --- connection thread ---

  /// Member `position` started with `sink`; `consume` attaches its channel. Once every
  /// member has started, every member's `consume` runs (in position order).
  void start_member(std::size_t position, producer_sink sink, std::function<void()> consume);
  /// A delivery of member `from`'s channel, in read order.
  void gather(message&& msg, std::size_t from);
  /// A read burst of `ch` (a member's channel) ended; `window_full`: that channel can take no
  /// more until some of its deliveries are settled, so waiting gathers nothing from it.
  void burst_ended(channel& ch, bool window_full);
  /// Hands the gathered deliveries on if their time came (or comes no sooner than the next
  /// paced read), else asks `ch` for a flush when it does.
  void hand_off_when_due(channel& ch);
  /// Nothing gathered waits for a hand-off.
  bool is_empty() const noexcept { return batch_.empty(); }
  /// Member `from`'s channel was lost: what it read and was not handed on is dropped (the
  /// broker redelivers it); what other members read goes on at once (the lost channel's
  /// flush timer is gone).
  void lost(std::size_t from);
  /// Member `position`'s drain ended. Once every member's has: the rest is handed on and
  /// every stage hears drained().
  void drained(std::size_t position);

private:
  void hand_off();
  /// Deliveries worth one hand-off: quarter_window() per member.
  std::size_t handoff_size() const noexcept;
  /// A quarter of a channel's prefetch window (at most 256): what must have come since the
  /// last stall for a full window to stall the stages again (stall_rule).
  std::size_t quarter_window() const noexcept;
  /// on_read, on a delivery just read.
  void read(message& msg);
  std::size_t target_of(message& msg, std::size_t from);
  /// The per-member vectors, sized to the sealed group.
  void size_members();

  std::atomic<std::size_t> members_{0};
  std::atomic<bool> sealed_{false};

  // Connection thread only from here on.
  std::function<std::uint64_t(message&)> route_by_;
  std::function<void(message&)> on_read_;
  std::size_t prefetch_count_;
  std::chrono::milliseconds handoff_interval_;
  std::shared_ptr<queue_channel_counters> counters_;
  std::vector<std::optional<producer_sink>> sinks_;  // by position
  std::vector<std::function<void()>> consume_;        // by position, until every member started
  std::size_t registered_ = 0;
  std::vector<bool> drained_;  // by position
  std::size_t drained_count_ = 0;
  std::vector<message> batch_;  // read, not yet handed on, in read order
  // Per message of batch_ while the group has several members: whose channel read it, and the
  // stage it goes to.
  std::vector<std::uint32_t> from_;
  std::vector<std::uint32_t> to_;
  std::vector<std::size_t> part_sizes_;  // scratch of hand_off (split_messages)
  std::chrono::steady_clock::time_point handoff_due_;  // while batch_ holds deliveries
  bool is_deferred_ = false;  // batch_'s hand-off waits for a timer
  stall_rule stall_rule_;  // when a full window tells the stages they stalled
};

} // namespace causeway::amqp::detail
