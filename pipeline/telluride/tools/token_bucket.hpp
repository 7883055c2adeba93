// token_bucket.hpp — how many messages may go now so that the average rate holds.
//
// Tokens accrue continuously at `rate` per second up to `capacity`; `take` hands out whole
// tokens. A sender that calls it every millisecond or so and sends what it is given holds the
// rate exactly over time, in bursts per tick rather than one sleep per message (which cannot
// reach high rates). The capacity bounds the catch-up burst after a stall. Pure: `now` is a
// parameter.
#pragma once

#include <chrono>
#include <cstdint>

namespace telluride::tools {

class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  /// Starts empty at `now`. `rate` > 0 tokens per second; `capacity` >= 1.
  token_bucket(double rate, double capacity, clock::time_point now);

  /// At most `wanted` whole tokens available at `now`, removed from the bucket.
  std::uint64_t take(clock::time_point now, std::uint64_t wanted);

  /// How long until one whole token is available (zero when one is).
  clock::duration time_to_next_token(clock::time_point now);

  /// Changes the rate from `now` on (tokens accrued so far are kept).
  void set_rate(double rate, clock::time_point now);
  double rate() const noexcept { return rate_; }
  double capacity() const noexcept { return capacity_; }

private:
  void refill(clock::time_point now);

  double rate_;
  double capacity_;
  double tokens_ = 0;
  clock::time_point last_;
};

} // namespace telluride::tools
