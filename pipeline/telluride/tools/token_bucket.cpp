#include "telluride/tools/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace telluride::tools {

token_bucket::token_bucket(double rate, double capacity, clock::time_point now)
  : rate_(rate), capacity_(std::max(1.0, capacity)), last_(now) {}

void token_bucket::refill(clock::time_point now) {
  if (now <= last_)
    return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + seconds * rate_);
  last_ = now;
}

std::uint64_t token_bucket::take(clock::time_point now, std::uint64_t wanted) {
  refill(now);
  const auto whole = static_cast<std::uint64_t>(std::floor(tokens_));
  const std::uint64_t given = std::min(whole, wanted);
  tokens_ -= static_cast<double>(given);
  return given;
}

token_bucket::clock::duration token_bucket::time_to_next_token(clock::time_point now) {
  refill(now);
  if (tokens_ >= 1.0 || rate_ <= 0)
    return clock::duration::zero();
  const double seconds = (1.0 - tokens_) / rate_;
  return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
}

void token_bucket::set_rate(double rate, clock::time_point now) {
  refill(now);
  rate_ = rate;
}

} // namespace telluride::tools
