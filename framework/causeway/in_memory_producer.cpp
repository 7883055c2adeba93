#include "causeway/in_memory_producer.hpp"

#include <algorithm>

namespace causeway {

class in_memory_feed::feed_producer : public producer {
public:
  explicit feed_producer(std::shared_ptr<in_memory_feed> feed) : feed_(std::move(feed)) {}

  void start(producer_sink sink) override {
    sink_ = std::move(sink);
    feed_->attach(sink_);
  }
  void prepare_for_draining() override {
    // Every push that reached this stage did so before detach returns: drained comes last.
    feed_->detach(sink_);
    sink_.drained();
  }
  void fail_in_flight(std::string_view reason) override { feed_->fail_outstanding(reason); }
  void stop() override { feed_->detach(sink_); }

private:
  std::shared_ptr<in_memory_feed> feed_;
  producer_sink sink_;
};

std::shared_ptr<in_memory_feed> in_memory_feed::make(std::shared_ptr<acknowledger> acks) {
  return std::make_shared<in_memory_feed>(std::move(acks));
}

in_memory_feed::in_memory_feed(std::shared_ptr<acknowledger> acks) : acks_(std::move(acks)) {}

std::uint64_t in_memory_feed::push(std::vector<message> messages) {
  std::lock_guard guard{mutex_};
  auto first = next_tag_;
  auto self = shared_from_this();
  for (auto& msg : messages)
    msg.ack = ack_ref{self, next_tag_++, 0};
  if (sinks_.empty()) {
    std::move(messages.begin(), messages.end(), std::back_inserter(held_));
    return first;
  }
  for (const auto& msg : messages)
    window_.deliver(msg.ack.tag);
  sinks_[next_sink_++ % sinks_.size()].deliver(std::move(messages));
  return first;
}

std::uint64_t in_memory_feed::push_data(std::vector<std::string> payloads) {
  std::vector<message> messages;
  messages.reserve(payloads.size());
  for (auto& payload : payloads)
    messages.emplace_back(std::move(payload));
  return push(std::move(messages));
}

void in_memory_feed::stall() {
  std::lock_guard guard{mutex_};
  if (sinks_.empty())
    is_stall_held_ = !held_.empty();  // told to the stage that gets what is held, after it
  for (const auto& sink : sinks_)
    sink.stalled();
}

producer_factory in_memory_feed::factory() {
  auto self = shared_from_this();
  return [self](std::size_t) { return std::make_unique<feed_producer>(self); };
}

std::size_t in_memory_feed::unacknowledged() const {
  std::lock_guard guard{mutex_};
  return window_.pending();
}

void in_memory_feed::attach(const producer_sink& sink) {
  std::lock_guard guard{mutex_};
  sinks_.push_back(sink);
  if (!held_.empty()) {
    for (const auto& msg : held_)
      window_.deliver(msg.ack.tag);
    sink.deliver(std::exchange(held_, {}));
  }
  if (std::exchange(is_stall_held_, false))
    sink.stalled();
}

void in_memory_feed::detach(const producer_sink& sink) {
  std::lock_guard guard{mutex_};
  std::erase_if(sinks_, [&sink](const producer_sink& s) { return s.stage() == sink.stage(); });
}

void in_memory_feed::ack(std::span<message> successful, std::span<message> failed) {
  // Settle under the lock; pass on only what was still outstanding: a message failed back
  // after a crash may still be finished by a stage that was being killed.
  std::vector<bool> fresh_ok(successful.size());
  std::vector<bool> fresh_failed(failed.size());
  bool all_fresh = true;
  {
    std::lock_guard guard{mutex_};
    for (std::size_t i = 0; i < successful.size(); ++i)
      all_fresh &= fresh_ok[i] = window_.settle(successful[i].ack.tag, detail::settlement::ack);
    for (std::size_t i = 0; i < failed.size(); ++i)
      all_fresh &= fresh_failed[i] = window_.settle(failed[i].ack.tag, detail::settlement::reject);
    window_.take_contiguous();
  }
  if (all_fresh) {
    acks_->ack(successful, failed);
    return;
  }
  auto keep = [](std::span<message> msgs, const std::vector<bool>& fresh) {
    std::vector<message> out;
    for (std::size_t i = 0; i < msgs.size(); ++i)
      if (fresh[i])
        out.push_back(std::move(msgs[i]));
    return out;
  };
  auto ok = keep(successful, fresh_ok);
  auto bad = keep(failed, fresh_failed);
  if (!ok.empty() || !bad.empty())
    acks_->ack(ok, bad);
}

void in_memory_feed::fail_outstanding(std::string_view reason) {
  std::vector<message> stubs;
  {
    std::lock_guard guard{mutex_};
    for (auto tag : window_.pending_tags()) {
      window_.settle(tag, detail::settlement::reject);
      message stub;
      stub.ack = ack_ref{shared_from_this(), tag, 0};
      stub.fail(std::string{reason});
      stubs.push_back(std::move(stub));
    }
    window_.take_contiguous();
  }
  if (!stubs.empty())
    acks_->ack({}, stubs);
}

} // namespace causeway
