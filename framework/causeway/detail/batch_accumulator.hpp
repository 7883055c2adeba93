// batch_accumulator.hpp — groups a batcher's messages into batches.
//
// Messages are accumulated per (batch key, partition). A batch is emitted when it reaches
// batch_size, when batch_timeout passed since its first message, or on flush (drain). Pure:
// no actors, no clock of its own; `now` comes from the caller.
#pragma once

#include "causeway/batch_info.hpp"
#include "causeway/message.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace causeway::detail {

using clock = std::chrono::steady_clock;

struct batch {
  std::vector<message> messages;
  batch_info info;
};

class batch_accumulator {
public:
  batch_accumulator(std::string batcher, std::size_t batch_size,
                    std::chrono::milliseconds batch_timeout);
  batch_accumulator(const batch_accumulator&) = delete;  // would remember the other's batches
  batch_accumulator& operator=(const batch_accumulator&) = delete;
  // A moved map keeps its elements where iterators to them stay valid; for a move assignment
  // the standard does not say so, and nothing needs one.
  batch_accumulator(batch_accumulator&&) noexcept = default;
  batch_accumulator& operator=(batch_accumulator&&) = delete;
  ~batch_accumulator() = default;

  /// Adds a message to the batch of (its batch key, `partition`); returns that batch when it
  /// reached batch_size.
  std::optional<batch> add(message&& msg, std::size_t partition, clock::time_point now);

  /// Removes and returns the batches whose timeout expired at `now`, oldest first.
  std::vector<batch> expire(clock::time_point now);

  /// Removes and returns every open batch, oldest first, emitted for `trigger`.
  std::vector<batch> flush(batch_trigger trigger = batch_trigger::flush);

  /// When the oldest open batch expires; nullopt when none is open.
  std::optional<clock::time_point> next_deadline() const;

  /// Messages in open batches.
  std::size_t size() const noexcept { return size_; }

private:
  struct open_batch {
    std::vector<message> messages;
    clock::time_point deadline;
    std::uint64_t order;  // opening order: expire and flush emit oldest first
  };
  using key = std::pair<std::string, std::size_t>;
  using open_iterator = std::map<key, open_batch>::iterator;

  /// Closes every open batch that `is_due`, oldest first.
  template <class Predicate>
  std::vector<batch> close_where(Predicate&& is_due, batch_trigger trigger);
  batch close(open_iterator it, batch_trigger trigger);
  /// The open batch of (batch_key, partition), opened if there is none.
  open_iterator open_batch_for(const std::string& batch_key, std::size_t partition, clock::time_point now);

  std::string batcher_;
  std::size_t batch_size_;
  std::chrono::milliseconds batch_timeout_;
  std::map<key, open_batch> open_;
  // Per partition (below recent_partitions), the batch it added to last while that is open: a
  // batcher's messages mostly share their key, and finding the batch again costs a map lookup
  // with a key made for it, per message. (Never open_.end(), which a move of the map does not
  // carry over; iterators to its elements it does.)
  static constexpr std::size_t recent_partitions = 64;
  std::vector<std::optional<open_iterator>> recent_;
  std::size_t size_ = 0;
  std::uint64_t next_order_ = 0;
};

} // namespace causeway::detail
