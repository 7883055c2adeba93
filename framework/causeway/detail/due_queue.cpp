#include "causeway/detail/due_queue.hpp"

namespace causeway::detail {

due_queue::ticket due_queue::add(clock::time_point due, std::function<void()> work) {
  const ticket t = ++last_;
  work_.emplace(std::make_pair(due, t), std::move(work));
  due_of_.emplace(t, due);
  return t;
}

std::function<void()> due_queue::remove(ticket t) {
  auto it = due_of_.find(t);
  if (it == due_of_.end())
    return {};
  auto node = work_.extract(std::make_pair(it->second, t));
  due_of_.erase(it);
  return std::move(node.mapped());
}

std::vector<std::function<void()>> due_queue::take_due(clock::time_point now) {
  std::vector<std::function<void()>> due;
  while (!work_.empty() && work_.begin()->first.first <= now) {
    auto node = work_.extract(work_.begin());
    due_of_.erase(node.key().second);
    due.push_back(std::move(node.mapped()));
  }
  return due;
}

std::vector<std::function<void()>> due_queue::take_all() {
  std::vector<std::function<void()>> all;
  all.reserve(work_.size());
  for (auto& [key, work] : work_)
    all.push_back(std::move(work));
  work_.clear();
  due_of_.clear();
  return all;
}

std::optional<due_queue::clock::time_point> due_queue::earliest() const {
  if (work_.empty())
    return std::nullopt;
  return work_.begin()->first.first;
}

} // namespace causeway::detail
