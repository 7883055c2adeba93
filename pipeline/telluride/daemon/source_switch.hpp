// source_switch.hpp — the readings source the next pipeline generation consumes from.
//
// A reconfiguration may change prefetch_count, which is fixed per AMQP channel: the config
// actor opens a source with the new options (on the same connection) and switches to it
// before restarting the pipeline, whose producers are created from the current source.
#pragma once

#include <causeway/amqp/producer.hpp>

#include <memory>
#include <mutex>

namespace telluride {

class source_switch {
public:
  explicit source_switch(std::shared_ptr<causeway::amqp::rabbitmq_source> first)
    : current_(std::move(first)) {}

  std::shared_ptr<causeway::amqp::rabbitmq_source> current() const {
    std::lock_guard guard{mutex_};
    return current_;
  }
  void replace(std::shared_ptr<causeway::amqp::rabbitmq_source> next) {
    std::lock_guard guard{mutex_};
    current_ = std::move(next);
  }
  /// A producer factory that always asks the current source.
  causeway::producer_factory factory() {
    return [this](std::size_t index) { return current()->factory()(index); };
  }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<causeway::amqp::rabbitmq_source> current_;
};

} // namespace telluride
