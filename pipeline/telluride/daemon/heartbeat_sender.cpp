#include "telluride/daemon/heartbeat_sender.hpp"

#include <causeway/thread_name.hpp>

#include <utility>

namespace telluride {

heartbeat_sender::heartbeat_sender(std::shared_ptr<causeway::amqp::publisher> publisher, std::string exchange,
                                   member_heartbeat self, std::chrono::milliseconds every)
  : publisher_(std::move(publisher)), exchange_(std::move(exchange)), self_(std::move(self)), every_(every) {
  self_.held.clear();
}

heartbeat_sender::~heartbeat_sender() {
  stop();
}

void heartbeat_sender::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || is_stopping_)
    return;
  thread_ = std::thread([this] { run(); });
}

void heartbeat_sender::stop() {
  {
    std::lock_guard lock(mutex_);
    is_stopping_ = true;
  }
  stopping_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

void heartbeat_sender::set_held(std::uint32_t shard, std::optional<std::string> state) {
  std::lock_guard lock(mutex_);
  if (state)
    held_[shard] = std::move(*state);
  else
    held_.erase(shard);
}

std::map<std::uint32_t, std::string> heartbeat_sender::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

void heartbeat_sender::run() {
  causeway::name_this_thread("heartbeat");
  std::unique_lock lock(mutex_);
  while (!is_stopping_) {
    member_heartbeat hb = self_;
    for (const auto& [shard, state] : held_)
      hb.held.push_back(held_shard{shard, state});
    lock.unlock();
    causeway::amqp::outgoing_message msg;
    msg.exchange = exchange_;
    msg.body = encode_heartbeat(hb);
    msg.properties.content_type = "application/json";
    msg.properties.persistent = false;
    publisher_->publish(std::move(msg), [](causeway::amqp::publish_outcome) {});
    lock.lock();
    stopping_.wait_for(lock, every_, [this] { return is_stopping_; });
  }
}

} // namespace telluride
