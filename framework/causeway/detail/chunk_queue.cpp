#include "causeway/detail/chunk_queue.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace causeway::detail {

void chunk_queue::push(std::vector<message> chunk) {
  if (chunk.empty())
    return;
  size_ += chunk.size();
  chunks_.push_back(std::move(chunk));
}

void chunk_queue::push(message msg) {
  // Append to the last chunk while it is the only one being built, so single messages do not
  // each become a chunk.
  if (chunks_.empty() || (chunks_.size() == 1 && head_ > 0) || chunks_.back().size() >= 4096)
    chunks_.emplace_back();
  chunks_.back().push_back(std::move(msg));
  ++size_;
}

std::vector<message> chunk_queue::take(std::size_t n) {
  std::vector<message> out;
  n = std::min(n, size_);
  if (n == 0)
    return out;
  auto& front = chunks_.front();
  if (head_ == 0 && front.size() == n) {
    out = std::move(front);
    chunks_.pop_front();
    size_ -= n;
    return out;
  }
  if (head_ == 0 && n < front.size() && front.size() - n <= n) {
    // The head of an untouched chunk, and no more behind it than is taken: the chunk goes on
    // with the head and its tail stays as a chunk of its own, so the fewer messages move (and
    // taking the tail next hands it on whole).
    std::vector<message> tail(std::make_move_iterator(front.begin() + static_cast<std::ptrdiff_t>(n)),
                              std::make_move_iterator(front.end()));
    front.erase(front.begin() + static_cast<std::ptrdiff_t>(n), front.end());
    out = std::exchange(front, std::move(tail));
    size_ -= n;
    return out;
  }
  out.reserve(n);
  while (out.size() < n) {
    auto& chunk = chunks_.front();
    auto count = std::min(n - out.size(), chunk.size() - head_);
    auto first = chunk.begin() + static_cast<std::ptrdiff_t>(head_);
    std::move(first, first + static_cast<std::ptrdiff_t>(count), std::back_inserter(out));
    head_ += count;
    if (head_ == chunk.size()) {
      chunks_.pop_front();
      head_ = 0;
    }
  }
  size_ -= n;
  return out;
}

} // namespace causeway::detail
