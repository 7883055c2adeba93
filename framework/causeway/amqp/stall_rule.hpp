// stall_rule.hpp — when a full prefetch window tells the stages they stalled.
//
// A channel whose window is full gets nothing more until some of its deliveries are
// acknowledged, and those wait in open batches for their timeout: the stages hear
// producer_sink::stalled() and cut them (docs/architecture.md, "Stalls"). The rule: a read
// burst ended with the window full and everything gathered handed on, and at least `spacing`
// deliveries came since the stages last heard a stall. The first full window stalls at once;
// after that, acknowledgements that free a few slots at a time refill the window with a few
// deliveries each, and a stall after each of them would cut every open batch to a sliver
// (TCP's silly window syndrome). Pure: the caller counts deliveries and reports bursts.
#pragma once

#include <cstddef>

namespace causeway::amqp::detail {

class stall_rule {
public:
  /// `spacing`: deliveries that must come between two stalls (a quarter of the window).
  explicit stall_rule(std::size_t spacing) noexcept : spacing_(spacing), since_(spacing) {}

  /// One delivery was gathered.
  void delivered() noexcept { ++since_; }

  /// A read burst ended: `window_full`, the channel can take no more; `handed_on`, nothing
  /// gathered is left waiting. True when the stages are to hear stalled() now (the count of
  /// deliveries then starts over).
  bool on_burst_end(bool window_full, bool handed_on) noexcept {
    if (!window_full || !handed_on || since_ < spacing_)
      return false;
    since_ = 0;
    return true;
  }

private:
  std::size_t spacing_;
  std::size_t since_;  // deliveries since the last stall (`spacing` before the first)
};

} // namespace causeway::amqp::detail
