// outputs.hpp — where the daemon publishes: the output routes of docs/wire-format.md (Routes).
//
// Every output is a persistent JSON message (delivery mode 2, content_type application/json)
// published with confirms on the daemon's publishing connection; the publisher republishes
// unconfirmed ones after a reconnect. Thread-safe: any stage or actor may publish.
#pragma once

#include "telluride/domain/config.hpp"

#include <causeway/amqp/publisher.hpp>
#include <causeway/message.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

/// The header that carries why a message was dead-lettered.
inline constexpr std::string_view reason_header = "x-telluride-reason";

class outputs {
public:
  outputs(std::shared_ptr<causeway::amqp::publisher> publisher, route_names routes);

  void aggregate(std::string json);
  /// Publishes each of `jsons` as an aggregate; `sent` runs on the connection thread once the
  /// broker has taken the last of them (or refused it, or the publisher gave up on it); at
  /// once, on the caller's thread, when there are none.
  void aggregates(std::vector<std::string> jsons, causeway::amqp::confirm_callback sent);
  void alert(std::string json);
  void metric(std::string json);
  void throughput(std::string json);
  void event(const nlohmann::json& event);

  /// Publishes `msg`'s bytes to the dead-letter route with `reason` (as one line of valid
  /// UTF-8) in x-telluride-reason
  /// (and the original routing key and message id); `done` runs on the connection thread once
  /// the broker has taken it (or refused it).
  void dead_letter(const causeway::message& msg, std::string_view reason,
                   causeway::amqp::confirm_callback done);

  /// Waits until everything published so far is confirmed; false on timeout.
  bool wait_confirmed(std::chrono::milliseconds timeout);
  causeway::amqp::publisher& publisher() noexcept { return *publisher_; }
  const route_names& routes() const noexcept { return routes_; }

private:
  void publish(const std::string& exchange, const std::string& routing_key, std::string body);

  std::shared_ptr<causeway::amqp::publisher> publisher_;
  route_names routes_;
};

} // namespace telluride
