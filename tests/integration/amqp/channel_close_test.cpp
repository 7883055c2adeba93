// The broker closes a channel (here: RabbitMQ's consumer_timeout, set to 1 s on a private broker,
// while a consumer holds a delivery unacknowledged). The close is answered with exactly one
// channel.close-ok, the channel reopens and consumes again, and the connection never drops.
#include "broker_helpers.hpp"

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/topology_declaration.hpp"

#include <amqp_framing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace causeway::amqp;
using namespace std::chrono_literals;

namespace {

/// Consumes `queue` with manual acknowledgements and never acknowledges: the delivery it holds
/// trips the broker's consumer_timeout. Counts what the connection tells it.
class holding_consumer : public channel_user {
public:
  explicit holding_consumer(std::string queue) : queue_(std::move(queue)) {}

  failure on_open(channel& ch) override {
    ++opens;
    amqp_basic_qos(ch.state(), ch.id(), 0, 1, 0);
    if (failure f = describe(amqp_get_rpc_reply(ch.state()), "basic.qos"))
      return f;
    amqp_basic_consume(ch.state(), ch.id(), amqp_cstring_bytes(queue_.c_str()), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    return describe(amqp_get_rpc_reply(ch.state()), "basic.consume");
  }
  void on_frame(channel&, const amqp_frame_t& frame) override {
    if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_DELIVER_METHOD)
      ++deliveries;
  }
  void on_lost(const failure& why) override {
    std::lock_guard lock(mutex_);
    reasons_.push_back(why.message);
  }
  std::vector<std::string> reasons() const {
    std::lock_guard lock(mutex_);
    return reasons_;
  }

  std::atomic<int> opens{0};
  std::atomic<int> deliveries{0};

private:
  std::string queue_;
  mutable std::mutex mutex_;
  std::vector<std::string> reasons_;
};

/// The size of the file at `path` (0 when there is none yet).
std::uintmax_t size_of(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

/// Lines of `path` from byte `from` on (what the broker logged during this test) that contain `text`.
std::size_t lines_with(const std::string& path, std::uintmax_t from, const std::string& text) {
  std::ifstream in{path};
  in.seekg(static_cast<std::streamoff>(from));
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    n += line.find(text) != std::string::npos;
  return n;
}

/// Runs `work` on a temporary channel of `c`; the failure it returns.
failure on_temporary_channel(connection& c, const std::function<failure(channel&)>& work) {
  failure out;
  if (!c.run_sync([&] { out = c.with_temporary_channel(work); }))
    out = failure{failure_scope::connection, 0, "the connection shut down"};
  return out;
}

failure publish_one(channel& ch, const std::string& queue) {
  std::string body = "held";
  int rc = amqp_basic_publish(ch.state(), ch.id(), amqp_empty_bytes, amqp_cstring_bytes(queue.c_str()), 0, 0,
                              nullptr, view(body));
  return describe_status(rc, "publish");
}

} // namespace

TEST_CASE("a channel the broker closes is answered once, reopens and consumes again, and the connection stays up") {
  // The broker looks for overdue acknowledgements at every channel tick (60 s by default).
  amqp_test::private_broker broker{8, "consumer_timeout = 1000", "[{rabbit, [{channel_tick_interval, 1000}]}]."};
  connection_options options;
  options.url = broker.url();
  options.name = amqp_test::unique_name("causeway-ctimeout");
  auto conn = connection::open(options);
  REQUIRE_MESSAGE(conn, (conn ? "" : conn.err().message));
  auto& c = **conn;
  const auto log_start = size_of(broker.log_path());  // the broker's data folder outlives a run
  // Three channels like the daemon's control channel: consuming, idle for a while, then each
  // holds one message. RabbitMQ 3.10 often sends channel.close twice for such a channel's
  // timeout; answering both was a connection error ("expected 'channel.open'").
  constexpr int channels = 3;
  std::vector<std::string> queues;
  std::vector<std::shared_ptr<holding_consumer>> consumers;
  for (int i = 0; i < channels; ++i) {
    queues.push_back(amqp_test::unique_name("causeway-ctimeout"));
    failure declared = on_temporary_channel(c, [&](channel& ch) {
      return declare_queue(ch, queue_spec{queues.back(), false, false, false, {}});
    });
    REQUIRE_MESSAGE(!declared, declared.message);
    consumers.push_back(std::make_shared<holding_consumer>(queues.back()));
    REQUIRE(c.run_sync([&] { c.attach(consumers.back()); }));
  }
  std::this_thread::sleep_for(3s);
  for (const auto& queue : queues) {
    failure published = on_temporary_channel(c, [&](channel& ch) { return publish_one(ch, queue); });
    REQUIRE_MESSAGE(!published, published.message);
  }
  // Each time: held past the timeout, closed by the broker, reopened, delivered again.
  CHECK(amqp_test::wait_until([&] {
    return std::all_of(consumers.begin(), consumers.end(), [](const auto& h) { return h->opens.load() >= 3; });
  }, 30s));

  auto stats = c.stats();
  CHECK(stats.losses == 0);
  CHECK(stats.connects == 1);
  CHECK(stats.is_connected);
  std::size_t closes = 0;
  for (const auto& consumer : consumers) {
    auto reasons = consumer->reasons();
    closes += reasons.size();
    CHECK(reasons.size() >= 2);
    for (const auto& reason : reasons)
      CHECK_MESSAGE(reason.find("PRECONDITION_FAILED - delivery acknowledgement on channel") != std::string::npos,
                    reason);
    CHECK(consumer->deliveries.load() >= 2);
  }
  CHECK(stats.channel_losses == closes);
  // The broker's logger writes the line of the latest timeout shortly after the channel close
  // reached us: wait for it, a little.
  std::size_t timeouts = 0;
  amqp_test::wait_until([&] {
    timeouts = lines_with(broker.log_path(), log_start, "has timed out waiting for delivery acknowledgement");
    return timeouts >= closes;
  }, 5s);
  MESSAGE("the broker logged " << timeouts << " acknowledgement timeouts for " << closes << " channel closes");
  CHECK(timeouts >= closes);
  CHECK(lines_with(broker.log_path(), log_start, "expected 'channel.open'") == 0);

  for (const auto& queue : queues) {
    failure deleted = on_temporary_channel(c, [&](channel& ch) {
      amqp_queue_delete(ch.state(), ch.id(), amqp_cstring_bytes(queue.c_str()), 0, 0);
      return describe(amqp_get_rpc_reply(ch.state()), "delete queue");
    });
    CHECK_MESSAGE(!deleted, deleted.message);
  }
  conn->reset();
  CHECK(connection::unclean_loop_closes() == 0);
}
