#include "causeway/testing.hpp"

#include <algorithm>

namespace causeway::testing {

void recording_acknowledger::ack(std::span<message> successful, std::span<message> failed) {
  {
    std::lock_guard guard{mutex_};
    for (const auto& msg : successful)
      records_.push_back({msg.ack.tag, msg.data, true, {}});
    for (const auto& msg : failed)
      records_.push_back({msg.ack.tag, msg.data, false, msg.failure_reason()});
    failed_ += failed.size();
  }
  changed_.notify_all();
}

bool recording_acknowledger::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock{mutex_};
  return changed_.wait_for(lock, timeout, [&] { return records_.size() >= n; });
}

std::optional<ack_record> recording_acknowledger::wait_for_tag(std::uint64_t tag,
                                                               std::chrono::milliseconds timeout) const {
  std::unique_lock lock{mutex_};
  std::optional<ack_record> found;
  changed_.wait_for(lock, timeout, [&] {
    auto it = std::find_if(records_.rbegin(), records_.rend(),
                           [tag](const ack_record& r) { return r.tag == tag; });
    if (it != records_.rend())
      found = *it;
    return found.has_value();
  });
  return found;
}

std::vector<ack_record> recording_acknowledger::records() const {
  std::lock_guard guard{mutex_};
  return records_;
}

std::size_t recording_acknowledger::count() const {
  std::lock_guard guard{mutex_};
  return records_.size();
}

std::size_t recording_acknowledger::failed_count() const {
  std::lock_guard guard{mutex_};
  return failed_;
}

std::vector<std::uint32_t> recording_acknowledger::times_acknowledged(std::uint64_t max_tag) const {
  std::vector<std::uint32_t> times(max_tag + 1, 0);
  std::lock_guard guard{mutex_};
  for (const auto& r : records_)
    if (r.tag <= max_tag)
      ++times[r.tag];
  return times;
}

void counting_acknowledger::ack(std::span<message> successful, std::span<message> failed) {
  ok_.fetch_add(successful.size());
  failed_.fetch_add(failed.size());
  // Waking the waiter per call would cost the benchmark; waiters poll with a short timeout.
}

bool counting_acknowledger::wait_for(std::uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock{mutex_};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ok_.load() + failed_.load() < n) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    changed_.wait_for(lock, std::chrono::milliseconds(1));
  }
  return true;
}

std::optional<ack_record> test_message(in_memory_feed& feed, const recording_acknowledger& acks,
                                       std::string data, std::chrono::milliseconds timeout) {
  std::vector<message> one;
  one.emplace_back(std::move(data));
  auto tag = feed.push(std::move(one));
  return acks.wait_for_tag(tag, timeout);
}

} // namespace causeway::testing
