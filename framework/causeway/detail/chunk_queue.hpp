// chunk_queue.hpp — a FIFO of messages kept in the vectors they arrived in.
//
// Producers deliver vectors; consumers ask for counts. Taking exactly a whole front vector
// hands it on without touching its messages; a partial take moves messages one by one: the
// ones taken, or, when at most as many stay behind in an untouched vector, those (the vector
// goes on with the ones taken, and the rest stays queued as a vector that can go whole).
#pragma once

#include "causeway/message.hpp"

#include <cstddef>
#include <deque>
#include <vector>

namespace causeway::detail {

class chunk_queue {
public:
  void push(std::vector<message> chunk);
  void push(message msg);
  /// Removes and returns up to `n` messages, oldest first.
  std::vector<message> take(std::size_t n);
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

private:
  std::deque<std::vector<message>> chunks_;
  std::size_t head_ = 0;  // messages of chunks_.front() already taken
  std::size_t size_ = 0;
};

} // namespace causeway::detail
