// ack_window.hpp — settles sequential delivery tags and coalesces them into ranges.
//
// A source hands out tags 1, 2, 3... (AMQP delivery tags per channel). Messages finish out of
// order; the window remembers each tag's outcome and, whenever the lowest unsent tag is
// settled, returns the contiguous run from there, merged by outcome, so one
// `basic.ack(multiple)` (or nack) covers many messages. When a slow message holds the run back
// the caller may take the settled tags behind it singly (take_scattered), so the broker's
// prefetch window does not fill with finished messages. Pure: not thread-safe, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace causeway::detail {

enum class settlement : std::uint8_t {
  pending,  ///< delivered, not finished
  ack,      ///< finished successfully
  reject,   ///< failed, drop (or dead-letter)
  requeue,  ///< failed, give back to the queue
  sent,     ///< already sent singly by take_scattered
};

/// Tags first..last (inclusive) settled the same way, or already sent singly; everything below
/// `first` was already sent, so a "multiple" up to `last` covers exactly this run. `last` is
/// always a tag settled now, never an already-sent one (a broker refuses a multiple-ack on a
/// tag that is no longer outstanding).
struct ack_run {
  settlement kind;
  std::uint64_t first;
  std::uint64_t last;
  friend bool operator==(const ack_run&, const ack_run&) = default;
};

class ack_window {
public:
  /// Registers a delivered tag. Tags must increase; a gap counts as already sent.
  void deliver(std::uint64_t tag);

  /// Records the outcome of `tag`. Returns false for a tag that is unknown, already
  /// settled, or below the window (already sent).
  bool settle(std::uint64_t tag, settlement outcome);

  /// Removes and returns the settled runs from the lowest unsent tag up to the first pending
  /// one, merged by outcome (`sent` tags between two tags of one outcome stay inside the run).
  std::vector<ack_run> take_contiguous();

  /// Removes and returns the settled tags that sit behind a pending one (to send singly).
  std::vector<std::pair<std::uint64_t, settlement>> take_scattered();

  /// Delivered and not yet settled.
  std::size_t pending() const noexcept { return pending_; }
  /// Settled and not yet taken.
  std::size_t settled() const noexcept { return settled_; }
  /// The pending tags, ascending.
  std::vector<std::uint64_t> pending_tags() const;
  /// The highest tag delivered so far (0 before the first).
  std::uint64_t last_delivered() const noexcept { return next_ - 1; }

  /// Forgets everything (a new channel starts its tags at 1 again).
  void reset();

private:
  std::deque<settlement> slots_;  // slot i holds tag base_ + i
  std::uint64_t base_ = 1;
  std::uint64_t next_ = 1;
  std::size_t pending_ = 0;
  std::size_t settled_ = 0;
};

} // namespace causeway::detail
