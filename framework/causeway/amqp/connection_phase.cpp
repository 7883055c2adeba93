#include "causeway/amqp/connection_phase.hpp"

#include "causeway/detail/overloaded.hpp"

namespace causeway::amqp::detail {

using causeway::detail::overloaded;

const char* name(const connection_phase& phase) noexcept {
  return std::visit(overloaded{
                      [](const connecting&) { return "connecting"; },
                      [](const connected&) { return "connected"; },
                      [](const failing&) { return "failing"; },
                      [](const waiting_to_reconnect&) { return "waiting_to_reconnect"; },
                      [](const closing&) { return "closing"; },
                      [](const closed&) { return "closed"; },
                    },
                    phase);
}

void connection_lifecycle::on_connected() {
  if (std::holds_alternative<connecting>(phase_) || std::holds_alternative<waiting_to_reconnect>(phase_))
    phase_ = connected{};
}

bool connection_lifecycle::on_failure(failure why) {
  if (std::holds_alternative<connected>(phase_)) {
    phase_ = failing{std::move(why), after_loss::reconnect};
    return true;
  }
  if (std::holds_alternative<closing>(phase_)) {
    phase_ = failing{std::move(why), after_loss::stop};
    return true;
  }
  return false;
}

bool connection_lifecycle::on_lost() {
  const auto* f = std::get_if<failing>(&phase_);
  if (f == nullptr)
    return false;
  bool reconnect = f->then == after_loss::reconnect;
  if (reconnect)
    phase_ = waiting_to_reconnect{};
  else
    phase_ = closed{};
  return reconnect;
}

void connection_lifecycle::on_shutdown() {
  std::visit(overloaded{
               [this](const connected&) { phase_ = closing{}; },
               [](failing& f) { f.then = after_loss::stop; },
               [](const closing&) {},
               [](const closed&) {},
               [this](const auto&) { phase_ = closed{}; },  // connecting, waiting_to_reconnect
             },
             phase_);
}

void connection_lifecycle::on_closed() { phase_ = closed{}; }

bool connection_lifecycle::has_socket() const noexcept {
  return std::holds_alternative<connected>(phase_) || std::holds_alternative<failing>(phase_) ||
         std::holds_alternative<closing>(phase_);
}

bool connection_lifecycle::is_usable() const noexcept {
  return std::holds_alternative<connected>(phase_) || std::holds_alternative<closing>(phase_);
}

bool connection_lifecycle::is_shutting_down() const noexcept {
  if (const auto* f = std::get_if<failing>(&phase_))
    return f->then == after_loss::stop;
  return std::holds_alternative<closing>(phase_) || std::holds_alternative<closed>(phase_);
}

const failure* connection_lifecycle::pending_failure() const noexcept {
  const auto* f = std::get_if<failing>(&phase_);
  return f != nullptr ? &f->why : nullptr;
}

} // namespace causeway::amqp::detail
