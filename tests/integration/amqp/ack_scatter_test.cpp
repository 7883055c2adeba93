// A delivery whose handling does not end holds the lowest unsettled tag: a multiple-ack cannot
// pass it, so the deliveries settled behind it fill the prefetch window. The channel then
// acknowledges them singly (after queue_channel's patience) and the broker keeps delivering.
#include "broker_helpers.hpp"
#include "pipeline_helpers.hpp"

#include <causeway/acknowledger.hpp>

#include <doctest/doctest.h>

#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

using namespace amqp_test;

namespace {

/// Passes every acknowledgement on to the channel's acknowledger except that of the message
/// whose body is `held`, which waits until release(): a message still being handled.
class holding_acknowledger : public causeway::acknowledger {
public:
  holding_acknowledger(std::shared_ptr<causeway::acknowledger> inner, std::string held)
    : inner_(std::move(inner)), held_body_(std::move(held)) {}

  void ack(std::span<causeway::message> successful, std::span<causeway::message> failed) override {
    std::vector<causeway::message> passed;
    passed.reserve(successful.size());
    for (auto& m : successful) {
      if (m.data == held_body_) {
        std::lock_guard lock(mutex_);
        held_.push_back(std::move(m));
      } else {
        passed.push_back(std::move(m));
      }
    }
    if (!passed.empty() || !failed.empty())
      inner_->ack(passed, failed);
  }

  std::size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }

  void release() {
    std::vector<causeway::message> out;
    {
      std::lock_guard lock(mutex_);
      out.swap(held_);
    }
    if (!out.empty())
      inner_->ack(out, {});
  }

private:
  std::shared_ptr<causeway::acknowledger> inner_;
  std::string held_body_;
  std::mutex mutex_;
  std::vector<causeway::message> held_;
};

} // namespace

TEST_CASE("deliveries settled behind one still in hand are acknowledged singly once they fill the window, and the "
          "rest keeps coming") {
  constexpr std::size_t total = 120;
  constexpr std::uint16_t prefetch = 20;
  scoped_queue queue("causeway-ack-scatter");
  preload(queue.name, total);  // "0" first: the first delivery, tag 1
  std::mutex mutex;
  std::shared_ptr<holding_acknowledger> holder;
  auto options = consumer_options(queue.name, prefetch);
  options.acknowledge_through = [&](std::shared_ptr<causeway::acknowledger> inner) {
    auto wrapped = std::make_shared<holding_acknowledger>(std::move(inner), "0");
    std::lock_guard lock(mutex);
    holder = wrapped;
    return std::shared_ptr<causeway::acknowledger>(wrapped);
  };
  auto source = amqp::queue_source::open(options);
  REQUIRE(source);
  auto handler = std::make_shared<counting_handler>(total);
  pipeline_env env;
  auto p = start_pipeline(env.system, **source, handler, pipeline_shape(10));
  auto stats = [&] { return (*source)->stats(); };

  // Six windows' worth pass the one held at tag 1, so the window was freed for them: by single
  // acknowledgements, since a multiple-ack up to any of them would acknowledge tag 1 too. Those
  // settled after the last delivery fill less than half the window: they wait for tag 1.
  CHECK(wait_until([&] { return stats().acked == total - 1; }, 30s));
  CHECK(handler->handled == total);
  std::uint64_t singles = 0;
  CHECK(wait_until(
    [&] {
      singles = stats().ack_frames;
      return list_queue(queue.name).unacked == static_cast<long>(total - singles);
    },
    30s));
  CHECK(singles >= total - prefetch / 2);
  CHECK(singles <= total - 1);
  std::shared_ptr<holding_acknowledger> h;
  {
    std::lock_guard lock(mutex);
    h = holder;
  }
  REQUIRE(h != nullptr);
  CHECK(h->held() == 1);

  // Its handling ends: one multiple-ack covers it and whatever waited behind it.
  h->release();
  CHECK(wait_until([&] { return stats().acked == total; }, 30s));
  CHECK(wait_until([&] { return stats().ack_frames == singles + 1; }, 30s));
  check_handled_once_and_queue_empty(*handler, queue.name);
  p.drain();
  p.stop();
}
