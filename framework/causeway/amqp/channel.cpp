// channel.cpp — the channel a channel_user sees: checks that turn rabbitmq-c replies into
// failures reported to the connection (which closes the channel or the connection), on the
// connection thread only.
#include "causeway/amqp/connection_impl.hpp"

namespace causeway::amqp {

amqp_connection_state_t channel::state() const noexcept { return owner_->impl_->state.get(); }

bool channel::is_usable() const noexcept {
  const auto& i = *owner_->impl_;
  return i.life.is_usable() && open_ && !failing_;
}

bool channel::check(const amqp_rpc_reply_t& reply, std::string_view step) {
  failure f = describe(reply, step);
  if (!f)
    return true;
  owner_->impl_->report(id_, std::move(f), true);
  return false;
}

bool channel::check_status(int status, std::string_view step) {
  if (status == AMQP_STATUS_OK)
    return true;
  owner_->impl_->report(id_, describe_status(status, step), false);
  return false;
}

void channel::fail(std::string reason) {
  owner_->impl_->report(id_, failure{failure_scope::channel, 0, std::move(reason)}, false);
}

void channel::request_flush() { owner_->impl_->request_flush(*this, owner_->impl_->options.flush_interval); }

void channel::request_flush(std::chrono::milliseconds within) { owner_->impl_->request_flush(*this, within); }

void channel::cancel_flush() { owner_->impl_->cancel_flush(*this); }

void channel::read_promptly() { owner_->impl_->read_promptly(); }

std::optional<std::chrono::milliseconds> channel::next_read_in() const { return owner_->impl_->next_read_in(); }

} // namespace causeway::amqp
