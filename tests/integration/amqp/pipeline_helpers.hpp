// pipeline_helpers.hpp — real pipelines over the test broker: preload a queue, count what
// the handler saw, start a pipeline on a queue_source.
#pragma once

#include "broker_helpers.hpp"

#include "causeway/amqp/queue_source.hpp"
#include "causeway/amqp/publisher.hpp"
#include "causeway/amqp/topology_declaration.hpp"
#include "causeway/handler.hpp"
#include "causeway/pipeline.hpp"
#include "causeway/runtime.hpp"

#include <caf/actor_system.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace amqp_test {

using namespace std::chrono_literals;
namespace amqp = causeway::amqp;

inline amqp::connection_options test_connection(std::string name, std::string url = broker_url()) {
  amqp::connection_options o;
  o.url = std::move(url);
  o.name = std::move(name);
  o.connect_timeout = 3s;
  return o;
}

/// A publisher on a connection of its own (named `name` and a unique suffix).
inline std::shared_ptr<amqp::publisher> open_test_publisher(const std::string& name) {
  amqp::publisher_options publishing;
  publishing.connection = test_connection(unique_name(name));
  auto pub = amqp::publisher::open(publishing);
  REQUIRE_MESSAGE(pub, (pub ? "" : pub.err().message));
  return *pub;
}

/// Publishes `count` persistent messages "0".."count-1" (message_id = the same number) to
/// `queue` through the default exchange and waits for every confirm.
inline void preload(const std::string& queue, std::size_t count, std::size_t first = 0,
                    std::string url = broker_url()) {
  amqp::publisher_options options;
  options.connection = test_connection(unique_name("causeway-preload"), std::move(url));
  options.confirm_window = 2000;
  auto pub = amqp::publisher::open(options);
  REQUIRE_MESSAGE(pub, (pub ? "" : pub.err().message));
  for (std::size_t i = first; i < first + count; ++i) {
    amqp::message_properties props;
    props.message_id = std::to_string(i);
    props.content_type = "text/plain";
    (*pub)->publish("", queue, std::to_string(i), std::move(props));
  }
  REQUIRE((*pub)->wait_confirmed(120s));
  REQUIRE((*pub)->stats().confirmed == count);
}

/// Counts, per message number, how often a batch handled it; fails messages on request.
class counting_handler : public causeway::handler {
public:
  explicit counting_handler(std::size_t expected) : seen_(expected) {}

  /// Decides per message in handle_message; return a reason to fail it.
  std::function<std::string(causeway::message&)> judge;

  void handle_message(causeway::message& msg, const causeway::context&) override {
    if (++entered_ == pause_at)
      paused = true;
    while (paused)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (msg.metadata.get("redelivered") == "true")
      ++redelivered;
    if (judge) {
      if (auto reason = judge(msg); !reason.empty()) {
        msg.fail(std::move(reason));
        return;
      }
    }
  }

  void handle_batch(std::span<causeway::message> batch, const causeway::batch_info& info,
                    const causeway::context&) override {
    std::lock_guard lock(mutex_);
    batches_.push_back(info);
    for (const auto& m : batch) {
      auto index = std::stoul(m.data);
      if (index < seen_.size())
        ++seen_[index];
    }
    handled += batch.size();
  }

  void handle_failed(std::span<causeway::message> failed, const causeway::context&) override {
    std::lock_guard lock(mutex_);
    for (const auto& m : failed)
      reasons_.push_back(m.failure_reason());
    failures += failed.size();
  }

  /// What handle_batch was told of each batch, in the order it saw them.
  std::vector<causeway::batch_info> batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }

  /// Why each failed message failed, in the order handle_failed saw them.
  std::vector<std::string> failure_reasons() const {
    std::lock_guard lock(mutex_);
    return reasons_;
  }

  /// Messages never handled / handled more than once.
  std::pair<std::size_t, std::size_t> missing_and_duplicates() const {
    std::lock_guard lock(mutex_);
    std::size_t missing = 0, duplicates = 0;
    for (auto n : seen_) {
      missing += n == 0 ? 1 : 0;
      duplicates += n > 1 ? n - 1 : 0;
    }
    return {missing, duplicates};
  }

  std::size_t distinct() const {
    std::lock_guard lock(mutex_);
    std::size_t d = 0;
    for (auto n : seen_)
      d += n > 0 ? 1 : 0;
    return d;
  }

  /// Processors stop in handle_message when this many messages entered it, until resumed:
  /// a broker failure then hits with a full prefetch window in flight.
  std::atomic<std::uint64_t> pause_at{0};
  std::atomic<bool> paused{false};

  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> redelivered{0};

private:
  std::atomic<std::uint64_t> entered_{0};
  mutable std::mutex mutex_;
  std::vector<std::uint32_t> seen_;
  std::vector<std::string> reasons_;
  std::vector<causeway::batch_info> batches_;
};

/// A consumer of `queue` on a connection of its own, with `prefetch`; the rest as defaults.
inline amqp::queue_source_options consumer_options(const std::string& queue, std::uint16_t prefetch) {
  amqp::queue_source_options options;
  options.connection = test_connection(unique_name("causeway-consumer"));
  options.queue = queue;
  options.prefetch_count = prefetch;
  return options;
}

/// Every message `handler` expected was handled exactly once, and `queue` ends with nothing
/// ready and nothing unacknowledged.
inline void check_handled_once_and_queue_empty(const counting_handler& handler, const std::string& queue) {
  auto [missing, duplicates] = handler.missing_and_duplicates();
  CHECK(missing == 0);
  CHECK(duplicates == 0);
  auto counts = wait_for_queue(queue, 0, 0);
  CHECK(counts.ready == 0);
  CHECK(counts.unacked == 0);
}

/// An actor system shaped like the daemon's (2 workers, no idle spinning).
struct pipeline_env {
  causeway::runtime_config cfg{2};
  caf::actor_system system{cfg};
};

inline causeway::pipeline_options pipeline_shape(std::size_t batch_size = 100) {
  causeway::pipeline_options o;
  o.name = "amqp-test";
  o.processors.concurrency = 2;
  causeway::batcher_options b;
  b.name = "default";
  b.batch_size = batch_size;
  b.batch_timeout = 50ms;
  o.batchers.push_back(b);
  o.shutdown_timeout = 30s;
  return o;
}

inline causeway::pipeline start_pipeline(caf::actor_system& system, amqp::queue_source& source,
                                         std::shared_ptr<causeway::handler> handler,
                                         causeway::pipeline_options options = pipeline_shape()) {
  causeway::pipeline_spec spec;
  spec.options = std::move(options);
  spec.handler = std::move(handler);
  spec.make_producer = source.factory();
  auto p = causeway::pipeline::start(system, std::move(spec));
  REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.err().message));
  return std::move(*p);
}

/// A durable queue for one test, deleted (with its messages) when the guard goes.
struct scoped_queue {
  std::string name;
  std::shared_ptr<amqp::connection> admin;

  explicit scoped_queue(std::string prefix, amqp::arguments args = {}, std::string url = broker_url())
    : name(unique_name(std::move(prefix))) {
    auto conn = amqp::connection::open(test_connection(unique_name("causeway-admin"), std::move(url)));
    REQUIRE_MESSAGE(conn, (conn ? "" : conn.err().message));
    admin = *conn;
    amqp::topology_spec t;
    t.queues.push_back({name, true, false, false, std::move(args)});
    auto declared = amqp::declare(*admin, t);
    REQUIRE_MESSAGE(declared, (declared ? "" : declared.err().message));
  }
  ~scoped_queue() {
    if (admin)
      (void)amqp::delete_queue(*admin, name);
  }
  scoped_queue(const scoped_queue&) = delete;
  scoped_queue& operator=(const scoped_queue&) = delete;
};

} // namespace amqp_test
