// readings_intake.hpp — the readings side of the daemon: the queue source the next pipeline
// generation consumes from, and whether a generation consumes now.
//
// A reconfiguration may change prefetch_count, which is fixed per AMQP channel: before the
// pipeline restarts, `prepare_for` opens a source with the new prefetch on the same
// connection and switches to it; the restarted producers are created from the current source.
// `is_consuming` is false from the start of a drain (reconfiguration or shutdown) until the
// next generation runs. Thread-safe.
#pragma once

#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/amqp/queue_source.hpp>

#include <atomic>
#include <memory>
#include <mutex>

namespace telluride {

class readings_intake {
public:
  explicit readings_intake(std::shared_ptr<causeway::amqp::queue_source> first)
    : current_(std::move(first)) {}

  std::shared_ptr<causeway::amqp::queue_source> current() const {
    std::lock_guard guard{mutex_};
    return current_;
  }
  /// Makes the next generation consume as `next` asks (a new channel prefetch); on an error
  /// (naming the key) nothing changed.
  expected<void> prepare_for(const config& next);
  /// A producer factory that always asks the current source.
  causeway::producer_factory factory() {
    return [this](std::size_t index) { return current()->factory()(index); };
  }

  bool is_consuming() const noexcept { return consuming_.load(); }
  void set_consuming(bool consuming) noexcept { consuming_.store(consuming); }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<causeway::amqp::queue_source> current_;
  std::atomic<bool> consuming_{false};
};

} // namespace telluride
