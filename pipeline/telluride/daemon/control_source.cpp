#include "telluride/daemon/control_source.hpp"

namespace telluride {

control_source::control_source(std::shared_ptr<causeway::amqp::queue_source> queue) : queue_(std::move(queue)) {}

bool control_source::start(caf::actor sink) {
  if (!queue_)
    return false;
  channel_ = queue_->factory()(0);
  channel_->start(causeway::producer_sink{std::move(sink)});
  return true;
}

void control_source::stop_taking() {
  if (channel_)
    channel_->prepare_for_draining();
}

void control_source::close() {
  if (channel_) {
    channel_->stop();
    channel_.reset();
  }
}

} // namespace telluride
