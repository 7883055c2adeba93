#include "causeway/amqp/queue_channel_phase.hpp"

#include <utility>

namespace causeway::amqp::detail {

const char* name(const queue_channel_phase& phase) noexcept {
  switch (phase.index()) {
    case 0: return "detached";
    case 1: return "channel_closed";
    case 2: return "channel_open";
    case 3: return "consuming";
  }
  return "?";
}

const char* name(drain_phase drain) noexcept {
  switch (drain) {
    case drain_phase::not_draining: return "not_draining";
    case drain_phase::cancelling: return "cancelling";
    case drain_phase::drained: return "drained";
  }
  return "?";
}

const char* name(queue_channel_step step) noexcept {
  switch (step) {
    case queue_channel_step::nothing: return "nothing";
    case queue_channel_step::consume: return "consume";
    case queue_channel_step::send_cancel: return "send_cancel";
    case queue_channel_step::finish_drain: return "finish_drain";
    case queue_channel_step::fail_channel: return "fail_channel";
  }
  return "?";
}

bool queue_channel_lifecycle::attach() {
  if (is_attached())
    return false;
  phase_ = channel_closed{};
  return true;
}

void queue_channel_lifecycle::attach_refused() { phase_ = detached{}; }

void queue_channel_lifecycle::opened(channel& ch, std::uint32_t epoch) {
  if (is_attached())
    phase_ = channel_open{&ch, epoch};
}

queue_channel_step queue_channel_lifecycle::set_up() {
  if (!std::holds_alternative<channel_open>(phase_))
    return queue_channel_step::nothing;
  if (drain_ == drain_phase::not_draining)
    return queue_channel_step::consume;
  return end_drain_if_cancelling();
}

void queue_channel_lifecycle::consuming_as(std::string tag) {
  if (const auto* open = std::get_if<channel_open>(&phase_))
    phase_ = consuming{*open, std::move(tag)};
}

queue_channel_step queue_channel_lifecycle::cancelled(bool by_broker) {
  if (const auto* c = std::get_if<consuming>(&phase_))
    phase_ = c->open;
  switch (drain_) {
    case drain_phase::cancelling: return end_drain_if_cancelling();
    case drain_phase::drained: return queue_channel_step::nothing;
    case drain_phase::not_draining: break;
  }
  return by_broker ? queue_channel_step::fail_channel : queue_channel_step::nothing;
}

queue_channel_step queue_channel_lifecycle::lost() {
  if (is_attached())
    phase_ = channel_closed{};
  return end_drain_if_cancelling();
}

queue_channel_step queue_channel_lifecycle::closed() {
  phase_ = detached{};
  return end_drain_if_cancelling();
}

queue_channel_step queue_channel_lifecycle::start_draining(bool channel_usable) {
  if (drain_ != drain_phase::not_draining)
    return queue_channel_step::nothing;
  if (std::holds_alternative<consuming>(phase_) && channel_usable) {
    drain_ = drain_phase::cancelling;
    return queue_channel_step::send_cancel;
  }
  drain_ = drain_phase::drained;
  return queue_channel_step::finish_drain;
}

queue_channel_step queue_channel_lifecycle::cancel_failed() { return end_drain_if_cancelling(); }

const channel_open* queue_channel_lifecycle::live() const noexcept {
  if (const auto* open = std::get_if<channel_open>(&phase_))
    return open;
  if (const auto* c = std::get_if<consuming>(&phase_))
    return &c->open;
  return nullptr;
}

const std::string* queue_channel_lifecycle::consumer_tag() const noexcept {
  const auto* c = std::get_if<consuming>(&phase_);
  return c != nullptr ? &c->tag : nullptr;
}

queue_channel_step queue_channel_lifecycle::end_drain_if_cancelling() noexcept {
  if (drain_ != drain_phase::cancelling)
    return queue_channel_step::nothing;
  drain_ = drain_phase::drained;
  return queue_channel_step::finish_drain;
}

} // namespace causeway::amqp::detail
