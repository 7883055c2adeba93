#include "causeway/amqp/consumer_phase.hpp"

#include <utility>

namespace causeway::amqp::detail {

const char* name(const consumer_phase& phase) noexcept {
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

const char* name(consumer_step step) noexcept {
  switch (step) {
    case consumer_step::nothing: return "nothing";
    case consumer_step::consume: return "consume";
    case consumer_step::send_cancel: return "send_cancel";
    case consumer_step::finish_drain: return "finish_drain";
    case consumer_step::fail_channel: return "fail_channel";
  }
  return "?";
}

bool consumer_lifecycle::attach() {
  if (is_attached())
    return false;
  phase_ = channel_closed{};
  return true;
}

void consumer_lifecycle::attach_refused() { phase_ = detached{}; }

void consumer_lifecycle::opened(channel& ch, std::uint32_t epoch) {
  if (is_attached())
    phase_ = channel_open{&ch, epoch};
}

consumer_step consumer_lifecycle::set_up() {
  if (!std::holds_alternative<channel_open>(phase_))
    return consumer_step::nothing;
  if (drain_ == drain_phase::not_draining)
    return consumer_step::consume;
  return end_drain_if_cancelling();
}

void consumer_lifecycle::consuming_as(std::string tag) {
  if (const auto* open = std::get_if<channel_open>(&phase_))
    phase_ = consuming{*open, std::move(tag)};
}

consumer_step consumer_lifecycle::cancelled(bool by_broker) {
  if (const auto* c = std::get_if<consuming>(&phase_))
    phase_ = c->open;
  switch (drain_) {
    case drain_phase::cancelling: return end_drain_if_cancelling();
    case drain_phase::drained: return consumer_step::nothing;
    case drain_phase::not_draining: break;
  }
  return by_broker ? consumer_step::fail_channel : consumer_step::nothing;
}

consumer_step consumer_lifecycle::lost() {
  if (is_attached())
    phase_ = channel_closed{};
  return end_drain_if_cancelling();
}

consumer_step consumer_lifecycle::closed() {
  phase_ = detached{};
  return end_drain_if_cancelling();
}

consumer_step consumer_lifecycle::start_draining(bool channel_usable) {
  if (drain_ != drain_phase::not_draining)
    return consumer_step::nothing;
  if (std::holds_alternative<consuming>(phase_) && channel_usable) {
    drain_ = drain_phase::cancelling;
    return consumer_step::send_cancel;
  }
  drain_ = drain_phase::drained;
  return consumer_step::finish_drain;
}

consumer_step consumer_lifecycle::cancel_failed() { return end_drain_if_cancelling(); }

const channel_open* consumer_lifecycle::live() const noexcept {
  if (const auto* open = std::get_if<channel_open>(&phase_))
    return open;
  if (const auto* c = std::get_if<consuming>(&phase_))
    return &c->open;
  return nullptr;
}

const std::string* consumer_lifecycle::consumer_tag() const noexcept {
  const auto* c = std::get_if<consuming>(&phase_);
  return c != nullptr ? &c->tag : nullptr;
}

consumer_step consumer_lifecycle::end_drain_if_cancelling() noexcept {
  if (drain_ != drain_phase::cancelling)
    return consumer_step::nothing;
  drain_ = drain_phase::drained;
  return consumer_step::finish_drain;
}

} // namespace causeway::amqp::detail
