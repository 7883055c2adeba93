#include "causeway/ack_gate.hpp"

#include <utility>

namespace causeway {

class ack_gate::gated final : public acknowledger {
public:
  gated(std::weak_ptr<ack_gate> gate, std::shared_ptr<acknowledger> inner)
    : gate_(std::move(gate)), inner_(std::move(inner)) {}

  void ack(std::span<message> successful, std::span<message> failed) override {
    if (auto gate = gate_.lock()) {
      gate->hold(inner_, successful, failed);
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

void ack_gate::hold(const std::shared_ptr<acknowledger>& inner, std::span<message> successful,
                    std::span<message> failed) {
  auto stub = [&inner](const message& m) {
    message out;
    out.ack = ack_ref{inner, m.ack.tag, m.ack.epoch};
    if (m.is_failed())
      out.fail(m.failure_reason());
    return out;
  };
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    for (const auto& m : successful)
      open_.successful.push_back(stub(m));
    for (const auto& m : failed)
      open_.failed.push_back(stub(m));
    if (wake_ && !has_woken_ &&
        (is_hurried_ || (wake_at_ != 0 && open_.successful.size() + open_.failed.size() >= wake_at_))) {
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
    if (wake_ && !has_woken_ && !(open_.successful.empty() && open_.failed.empty())) {
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
  sealed_.push_back(std::exchange(open_, round_of_acks{current_, {}, {}}));
  return number;
}

std::size_t ack_gate::release(std::uint64_t round) {
  std::vector<message> successful;
  std::vector<message> failed;
  {
    std::lock_guard lock(mutex_);
    std::size_t done = 0;
    for (; done < sealed_.size() && sealed_[done].number <= round; ++done) {
      auto& r = sealed_[done];
      successful.insert(successful.end(), std::make_move_iterator(r.successful.begin()),
                        std::make_move_iterator(r.successful.end()));
      failed.insert(failed.end(), std::make_move_iterator(r.failed.begin()), std::make_move_iterator(r.failed.end()));
    }
    sealed_.erase(sealed_.begin(), sealed_.begin() + static_cast<std::ptrdiff_t>(done));
  }
  const std::size_t released = successful.size() + failed.size();
  if (released != 0)
    acknowledge(successful, failed);  // outside the lock: sources post to their own threads
  return released;
}

std::size_t ack_gate::held() const {
  std::lock_guard lock(mutex_);
  std::size_t n = open_.successful.size() + open_.failed.size();
  for (const auto& r : sealed_)
    n += r.successful.size() + r.failed.size();
  return n;
}

std::size_t ack_gate::held_failed() const {
  std::lock_guard lock(mutex_);
  std::size_t n = open_.failed.size();
  for (const auto& r : sealed_)
    n += r.failed.size();
  return n;
}

std::size_t ack_gate::unsealed() const {
  std::lock_guard lock(mutex_);
  return open_.successful.size() + open_.failed.size();
}

} // namespace causeway
