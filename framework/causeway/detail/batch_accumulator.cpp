#include "causeway/detail/batch_accumulator.hpp"

#include <algorithm>

namespace causeway::detail {

batch_accumulator::batch_accumulator(std::string batcher, std::size_t batch_size,
                                     std::chrono::milliseconds batch_timeout)
  : batcher_(std::move(batcher)), batch_size_(batch_size), batch_timeout_(batch_timeout) {}

std::optional<batch> batch_accumulator::add(message&& msg, std::size_t partition,
                                            clock::time_point now) {
  auto it = open_batch_for(msg.batch_key(), partition, now);
  it->second.messages.push_back(std::move(msg));
  ++size_;
  if (it->second.messages.size() >= batch_size_)
    return close(it, batch_trigger::size);
  return std::nullopt;
}

batch_accumulator::open_iterator batch_accumulator::open_batch_for(const std::string& batch_key,
                                                                   std::size_t partition, clock::time_point now) {
  const bool remembered = partition < recent_partitions;
  if (remembered) {
    if (partition >= recent_.size())
      recent_.resize(partition + 1);
    if (const auto& recent = recent_[partition]; recent && (*recent)->first.first == batch_key)
      return *recent;
  }
  auto [it, opened] = open_.try_emplace(key{batch_key, partition});
  if (opened) {
    it->second.deadline = now + batch_timeout_;
    it->second.order = next_order_++;
    it->second.messages.reserve(std::min<std::size_t>(batch_size_, 1024));
  }
  if (remembered)
    recent_[partition] = it;
  return it;
}

template <class Predicate>
std::vector<batch> batch_accumulator::close_where(Predicate&& is_due, batch_trigger trigger) {
  std::vector<open_iterator> due;
  for (auto it = open_.begin(); it != open_.end(); ++it)
    if (is_due(it->second))
      due.push_back(it);
  // In the order the batches were opened: the oldest goes first.
  std::sort(due.begin(), due.end(), [](auto a, auto b) { return a->second.order < b->second.order; });
  std::vector<batch> out;
  out.reserve(due.size());
  for (auto it : due)
    out.push_back(close(it, trigger));
  return out;
}

std::vector<batch> batch_accumulator::expire(clock::time_point now) {
  return close_where([now](const open_batch& b) { return b.deadline <= now; }, batch_trigger::timeout);
}

std::vector<batch> batch_accumulator::flush(batch_trigger trigger) {
  return close_where([](const open_batch&) { return true; }, trigger);
}

std::optional<clock::time_point> batch_accumulator::next_deadline() const {
  std::optional<clock::time_point> earliest;
  for (const auto& [k, b] : open_)
    if (!earliest || b.deadline < *earliest)
      earliest = b.deadline;
  return earliest;
}

batch batch_accumulator::close(open_iterator it, batch_trigger trigger) {
  if (const auto partition = it->first.second; partition < recent_.size() && recent_[partition] == it)
    recent_[partition].reset();
  batch out;
  out.messages = std::move(it->second.messages);
  out.info = batch_info{batcher_, it->first.first, it->first.second, out.messages.size(), trigger};
  size_ -= out.messages.size();
  open_.erase(it);
  return out;
}

} // namespace causeway::detail
