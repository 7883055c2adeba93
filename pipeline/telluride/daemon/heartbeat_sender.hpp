// heartbeat_sender.hpp — publishes this daemon's member_heartbeat about once a second on the
// members exchange, on a thread of its own, so that a long rebalance (restores, a drain) never
// delays a heartbeat past the others' lapse. The shards it announces are set as they change
// (set_held). Transient messages: a heartbeat is worth nothing once the next one is out.
// Thread-safe.
#pragma once

#include "telluride/daemon/member_heartbeat.hpp"

#include <causeway/amqp/publisher.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace telluride {

class heartbeat_sender {
public:
  /// Announces `self` (its node, start id and K; its `held` is ignored) on `exchange`.
  heartbeat_sender(std::shared_ptr<causeway::amqp::publisher> publisher, std::string exchange, member_heartbeat self,
                   std::chrono::milliseconds every = std::chrono::seconds(1));
  /// Stops.
  ~heartbeat_sender();
  heartbeat_sender(const heartbeat_sender&) = delete;
  heartbeat_sender& operator=(const heartbeat_sender&) = delete;

  /// The first heartbeat now, then one every `every`.
  void start();
  /// No heartbeat after it returns. Idempotent.
  void stop();

  /// Shard `shard` is held in `state` (active, restoring, handing_over) from the next heartbeat
  /// on; none: not held.
  void set_held(std::uint32_t shard, std::optional<std::string> state);
  std::map<std::uint32_t, std::string> held() const;

private:
  void run();

  std::shared_ptr<causeway::amqp::publisher> publisher_;
  std::string exchange_;
  member_heartbeat self_;
  std::chrono::milliseconds every_;
  mutable std::mutex mutex_;
  std::map<std::uint32_t, std::string> held_;
  std::condition_variable stopping_;
  bool is_stopping_ = false;
  std::thread thread_;
};

} // namespace telluride
