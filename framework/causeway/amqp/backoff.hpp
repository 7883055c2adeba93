// backoff.hpp — how long to wait before the next reconnect attempt.
//
// Exponential with jitter, applied from the first retry on (never an instant retry, so a
// broker that is restarting is not hit by a reconnect storm): attempt n waits
// min(max, initial * multiplier^n) scaled down by a random fraction of up to `jitter`, so
// attempt 0 waits 75..100 ms with the defaults and the ceiling is 22.5..30 s. Pure: the random
// generator is passed in, no clock.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>

namespace causeway::amqp {

struct backoff_options {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
  double jitter = 0.25;  ///< 0..1: the share of the delay that is random
};

class backoff {
public:
  explicit backoff(backoff_options options = {}) : options_(options) {}

  /// The delay before the next attempt; each call counts one attempt.
  template <class Rng>
  std::chrono::milliseconds next(Rng& rng) {
    double base = static_cast<double>(options_.initial.count()) *
                  std::pow(options_.multiplier, static_cast<double>(attempts_));
    double ceiling = static_cast<double>(options_.max.count());
    base = std::min(base, ceiling);
    double jitter = std::clamp(options_.jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> fraction(0.0, jitter);
    double delay = base * (1.0 - fraction(rng));
    if (attempts_ < 64)
      ++attempts_;
    return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(delay))};
  }

  /// Attempts since the last reset.
  std::uint32_t attempts() const noexcept { return attempts_; }
  /// Starts over at `initial` (after a connection proved healthy).
  void reset() noexcept { attempts_ = 0; }
  const backoff_options& options() const noexcept { return options_; }

private:
  backoff_options options_;
  std::uint32_t attempts_ = 0;
};

} // namespace causeway::amqp
