// pipeline_fixture.hpp — an actor system, an in-memory feed, a recording acknowledger and a
// configurable handler, for tests that run whole pipelines.
#pragma once

#include "causeway/in_memory_producer.hpp"
#include "causeway/pipeline.hpp"
#include "causeway/runtime.hpp"
#include "causeway/testing.hpp"

#include <caf/actor_system.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace causeway::test {

using namespace std::chrono_literals;

/// Records what the callbacks saw; behaviour is injected per test.
class scripted_handler : public handler {
public:
  std::function<void(message&, const context&)> on_message;
  std::function<void(std::span<message>, const batch_info&, const context&)> on_batch;

  void handle_message(message& msg, const context& ctx) override {
    if (on_message)
      on_message(msg, ctx);
  }

  void handle_batch(std::span<message> batch, const batch_info& info, const context& ctx) override {
    {
      std::lock_guard guard{mutex};
      batches.push_back(info);
      std::vector<std::string> data;
      for (const auto& m : batch)
        data.push_back(m.data);
      batch_data.push_back(std::move(data));
      batch_processor_of.push_back(ctx.index);
    }
    if (on_batch)
      on_batch(batch, info, ctx);
  }

  void handle_failed(std::span<message> failed, const context&) override {
    std::lock_guard guard{mutex};
    for (const auto& m : failed)
      failed_seen.push_back(m.data);
  }

  std::vector<batch_info> batch_infos() const {
    std::lock_guard guard{mutex};
    return batches;
  }

  mutable std::mutex mutex;
  std::vector<batch_info> batches;
  std::vector<std::vector<std::string>> batch_data;
  std::vector<std::size_t> batch_processor_of;
  std::vector<std::string> failed_seen;
};

/// The doubles a pipeline under test runs with. A fixture lists it after its actor system (as
/// a later base), so the feed and the handler are destroyed before the system.
struct pipeline_doubles {
  std::shared_ptr<testing::recording_acknowledger> acks =
    std::make_shared<testing::recording_acknowledger>();
  std::shared_ptr<in_memory_feed> feed = in_memory_feed::make(acks);
  std::shared_ptr<scripted_handler> handler = std::make_shared<scripted_handler>();

  pipeline_spec spec(pipeline_options options) {
    pipeline_spec s;
    s.options = std::move(options);
    s.handler = handler;
    s.make_producer = feed->factory();
    return s;
  }

  static std::vector<std::string> numbered(std::size_t n, std::size_t from = 0) {
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      out.push_back(std::to_string(from + i));
    return out;
  }
};

/// An actor system with two scheduler threads.
struct threaded_system {
  runtime_config cfg{2};
  caf::actor_system system{cfg};
};

struct pipeline_fixture : threaded_system, pipeline_doubles {
  pipeline start(pipeline_options options) {
    auto p = pipeline::start(system, spec(std::move(options)));
    REQUIRE(p.has_value());
    return std::move(*p);
  }
};

inline batcher_options batcher(std::string name, std::size_t batch_size,
                               std::chrono::milliseconds timeout = 1000ms, std::size_t concurrency = 1) {
  batcher_options b;
  b.name = std::move(name);
  b.batch_size = batch_size;
  b.batch_timeout = timeout;
  b.concurrency = concurrency;
  return b;
}

} // namespace causeway::test
