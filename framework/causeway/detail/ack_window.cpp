#include "causeway/detail/ack_window.hpp"

namespace causeway::detail {

void ack_window::deliver(std::uint64_t tag) {
  if (tag < next_)
    return;
  if (slots_.empty())
    base_ = next_;
  for (; next_ < tag; ++next_)
    slots_.push_back(settlement::sent);
  slots_.push_back(settlement::pending);
  next_ = tag + 1;
  ++pending_;
}

bool ack_window::settle(std::uint64_t tag, settlement outcome) {
  if (outcome == settlement::pending || outcome == settlement::sent)
    return false;
  if (tag < base_ || tag >= base_ + slots_.size())
    return false;
  auto& slot = slots_[tag - base_];
  if (slot != settlement::pending)
    return false;
  slot = outcome;
  --pending_;
  ++settled_;
  return true;
}

std::vector<ack_run> ack_window::take_contiguous() {
  std::vector<ack_run> runs;
  while (!slots_.empty() && slots_.front() != settlement::pending) {
    auto kind = slots_.front();
    auto tag = base_;
    slots_.pop_front();
    ++base_;
    // A run never ends on a sent tag: RabbitMQ refuses a multiple-ack whose tag is no longer
    // outstanding ("unknown delivery tag"). Sent tags inside a run are harmless.
    if (kind == settlement::sent)
      continue;
    --settled_;
    if (!runs.empty() && runs.back().kind == kind) {
      runs.back().last = tag;
    } else {
      runs.push_back({kind, tag, tag});
    }
  }
  if (slots_.empty())
    base_ = next_;
  return runs;
}

std::vector<std::pair<std::uint64_t, settlement>> ack_window::take_scattered() {
  std::vector<std::pair<std::uint64_t, settlement>> out;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    auto& slot = slots_[i];
    if (slot == settlement::pending || slot == settlement::sent)
      continue;
    out.emplace_back(base_ + i, slot);
    slot = settlement::sent;
    --settled_;
  }
  // Drop the sent prefix so the window does not keep it.
  while (!slots_.empty() && slots_.front() == settlement::sent) {
    slots_.pop_front();
    ++base_;
  }
  return out;
}

std::vector<std::uint64_t> ack_window::pending_tags() const {
  std::vector<std::uint64_t> tags;
  tags.reserve(pending_);
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i] == settlement::pending)
      tags.push_back(base_ + i);
  return tags;
}

void ack_window::reset() {
  slots_.clear();
  base_ = 1;
  next_ = 1;
  pending_ = 0;
  settled_ = 0;
}

} // namespace causeway::detail
