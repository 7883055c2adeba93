#include "causeway/ack_gate.hpp"

#include <algorithm>
#include <utility>

namespace causeway {

class ack_gate::gated final : public acknowledger {
public:
  gated(std::weak_ptr<ack_gate> gate, std::shared_ptr<acknowledger> inner)
    : gate_(std::move(gate)), inner_(std::move(inner)) {}

  void ack(std::span<message> successful, std::span<message> failed) override {
    if (auto gate = gate_.lock()) {
      gate->hold(inner_, successful, failed);
      // The gate keeps only references: the source may have the buffers back now.
      if (!successful.empty())
        inner_->recycle(successful);
      return;
    }
    // The gate is gone (its owner shut down): nothing can make these durable any more, so they
    // are not acknowledged; the source redelivers them.
  }

private:
  std::weak_ptr<ack_gate> gate_;
  std::shared_ptr<acknowledger> inner_;
};

std::shared_ptr<acknowledger> ack_gate::wrap(std::shared_ptr<acknowledger> inner) {
  return std::make_shared<gated>(weak_from_this(), std::move(inner));
}

ack_gate::held_acks& ack_gate::entry_of(round_of_acks& round, const std::shared_ptr<acknowledger>& to) {
  for (auto& held : round.by_acknowledger)
    if (held.to == to)
      return held;
  auto& held = round.by_acknowledger.emplace_back();
  held.to = to;
  // About a round's worth, so that holding does not reallocate as the round fills.
  held.successful.reserve(std::max<std::size_t>(wake_at_, 64));
  return held;
}

void ack_gate::hold(const std::shared_ptr<acknowledger>& inner, std::span<message> successful,
                    std::span<message> failed) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    held_acks& held = entry_of(open_, inner);
    for (const auto& m : successful)
      held.successful.push_back(delivery_ref{m.ack.tag, m.ack.epoch});
    for (const auto& m : failed) {
      message stub;
      stub.ack = ack_ref{inner, m.ack.tag, m.ack.epoch};
      stub.fail(m.failure_reason());
      if (auto redelivered = m.metadata.get("redelivered"); !redelivered.empty())
        stub.metadata.set("redelivered", redelivered);
      held.failed.push_back(std::move(stub));
    }
    open_.count += successful.size() + failed.size();
    open_.failed += failed.size();
    if (wake_ && !has_woken_ && (is_hurried_ || (wake_at_ != 0 && open_.count >= wake_at_))) {
      has_woken_ = true;
      wake = wake_;
    }
  }
  if (wake)
    wake();
}

void ack_gate::wake_at(std::size_t count, std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_at_ = wake ? count : 0;
  wake_ = std::move(wake);
}

void ack_gate::hurry() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    is_hurried_ = true;
    if (wake_ && !has_woken_ && open_.count != 0) {
      has_woken_ = true;
      wake = wake_;
    }
  }
  if (wake)
    wake();
}

bool ack_gate::is_hurried() const {
  std::lock_guard lock(mutex_);
  return is_hurried_;
}

std::uint64_t ack_gate::seal() {
  std::lock_guard lock(mutex_);
  const auto number = current_++;
  has_woken_ = false;
  is_hurried_ = false;
  sealed_.push_back(std::exchange(open_, round_of_acks{current_, {}, 0, 0}));
  return number;
}

std::size_t ack_gate::release(std::uint64_t round) {
  std::vector<held_acks> released;  // rounds up to `round`, merged per acknowledger, oldest first
  std::size_t count = 0;
  {
    std::lock_guard lock(mutex_);
    std::size_t done = 0;
    for (; done < sealed_.size() && sealed_[done].number <= round; ++done) {
      auto& r = sealed_[done];
      count += r.count;
      for (auto& held : r.by_acknowledger) {
        auto same = std::find_if(released.begin(), released.end(), [&](const held_acks& h) { return h.to == held.to; });
        if (same == released.end()) {
          released.push_back(std::move(held));
          continue;
        }
        same->successful.insert(same->successful.end(), held.successful.begin(), held.successful.end());
        same->failed.insert(same->failed.end(), std::make_move_iterator(held.failed.begin()),
                            std::make_move_iterator(held.failed.end()));
      }
    }
    sealed_.erase(sealed_.begin(), sealed_.begin() + static_cast<std::ptrdiff_t>(done));
  }
  // Outside the lock: sources post to their own threads.
  for (auto& held : released) {
    if (!held.to)
      continue;
    if (!held.successful.empty())
      held.to->ack_refs(held.successful);
    if (!held.failed.empty())
      held.to->ack({}, held.failed);
  }
  return count;
}

std::size_t ack_gate::held() const {
  std::lock_guard lock(mutex_);
  std::size_t n = open_.count;
  for (const auto& r : sealed_)
    n += r.count;
  return n;
}

std::size_t ack_gate::held_failed() const {
  std::lock_guard lock(mutex_);
  std::size_t n = open_.failed;
  for (const auto& r : sealed_)
    n += r.failed;
  return n;
}

std::size_t ack_gate::unsealed() const {
  std::lock_guard lock(mutex_);
  return open_.count;
}

} // namespace causeway
