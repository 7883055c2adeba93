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

void shutdown_requests::add(caf::response_promise reply, control_source& source) {
  replies_.push_back(std::move(reply));
  if (!asked_) {
    asked_ = true;
    source.stop_taking();
  }
}

void shutdown_requests::answer(control_source& source) {
  source.close();
  for (auto& r : replies_)
    r.deliver(true);
  replies_.clear();
}

} // namespace telluride
