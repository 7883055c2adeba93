#include "causeway/amqp/recycled_buffers.hpp"

#include <utility>

namespace causeway::amqp {

void recycled_buffers::give(std::span<message> done) {
  std::lock_guard lock(mutex_);
  for (auto& m : done) {
    if (returned_.size() >= max_held_)
      break;
    if (!worth_keeping(m.data.capacity()) || !worth_keeping(m.metadata.capacity()))
      continue;
    // Not emptied here: that would write to them, and the connection thread would have to
    // fetch their cache lines back from this core before it writes them again.
    returned_.push_back(pair{std::move(m.data), std::move(m.metadata)});
  }
  returned_count_.store(returned_.size(), std::memory_order_release);
}

bool recycled_buffers::take(std::string& body, causeway::metadata& md) {
  if (next_ == ready_.size()) {
    // Nothing came back since the last swap: no lock. Between acknowledgements (in durable
    // mode, a checkpoint apart) every delivery asks, and the lock cost ~2 % of this thread.
    if (returned_count_.load(std::memory_order_acquire) == 0)
      return false;
    ready_.clear();  // what is left of the taken ones: empty strings
    next_ = 0;
    std::lock_guard lock(mutex_);
    // The emptied vector goes the other way, so that neither side allocates one either.
    ready_.swap(returned_);
    returned_count_.store(0, std::memory_order_relaxed);
    if (ready_.empty())
      return false;
  }
  // Oldest first: the longer ago a buffer was given back, the likelier its cache lines left
  // the core that gave it (taking the newest, every write here first invalidated them there).
  auto& p = ready_[next_++];
  body = std::move(p.body);
  md = std::move(p.metadata);
  body.clear();
  md.clear();
  return true;
}

std::size_t recycled_buffers::held() {
  std::lock_guard lock(mutex_);
  return returned_.size() + (ready_.size() - next_);
}

} // namespace causeway::amqp
