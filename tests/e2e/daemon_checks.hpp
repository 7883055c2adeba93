// daemon_checks.hpp — reading a daemon's outputs back and comparing them with expectations.
#pragma once

#include "amqp_session.hpp"
#include "broker_helpers.hpp"
#include "daemon_process.hpp"
#include "readings.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>
#include <thread>
#include <map>
#include <string>

namespace telluride::test {

/// Publishes readings [from, to) to the daemon's readings route and waits for confirms.
inline void publish_readings(amqp_session& s, const daemon_process& d, const reading_set& set,
                             std::size_t from, std::size_t to) {
  for (auto i = from; i < to; ++i) {
    const auto& m = set.messages()[i];
    s.publish(d.route("exchange"), d.route("readings_routing_key"), m.body, m.message_id);
  }
  s.wait_confirms();
}

/// The newest aggregate per sensor (the one with the most reads) seen on the aggregates queue.
class aggregate_view {
public:
  void update(amqp_session& s, const daemon_process& d) {
    for (auto& m : s.drain(d.route("aggregates_queue"))) {
      auto j = nlohmann::json::parse(m.body);
      auto key = j["line_id"].dump() + "/" + j["device_id"].dump() + "/" + j["sensor_id"].dump();
      auto& slot = latest_[key];
      if (slot.is_null() || slot["total_reads"].get<std::uint64_t>() <= j["total_reads"].get<std::uint64_t>())
        slot = std::move(j);
      content_types_ok_ &= m.content_type == "application/json" && m.delivery_mode == 2;
    }
  }

  bool matches(const std::map<std::string, expected_aggregate>& want) const {
    if (latest_.size() != want.size())
      return false;
    for (const auto& [key, e] : want) {
      auto it = latest_.find(key);
      if (it == latest_.end() || it->second["total_reads"].get<std::uint64_t>() != e.count)
        return false;
    }
    return true;
  }

  /// Checks every field of every aggregate against `want`.
  void check(const std::map<std::string, expected_aggregate>& want) const {
    CHECK(latest_.size() == want.size());
    CHECK(content_types_ok_);
    for (const auto& [key, e] : want) {
      auto it = latest_.find(key);
      REQUIRE_MESSAGE(it != latest_.end(), "no aggregate for sensor " << key);
      const auto& a = it->second;
      INFO("sensor " << key << ": " << a.dump());
      CHECK(a["total_reads"].get<std::uint64_t>() == e.count);
      CHECK(a["min"].get<double>() == e.min);
      CHECK(a["max"].get<double>() == e.max);
      CHECK(close(a["mean"].get<double>(), e.mean));
      CHECK(close(a["stddev"].get<double>(), e.stddev));
      CHECK(a["last_reading"].get<double>() == e.last);
      CHECK(a["last_timestamp"].get<std::string>() == e.last_timestamp);
    }
  }

  const std::map<std::string, nlohmann::json>& latest() const { return latest_; }

private:
  std::map<std::string, nlohmann::json> latest_;
  bool content_types_ok_ = true;
};

/// A metric from GET /metrics (`name` as written there, labels included), or -1 when absent.
inline double metric_of(int port, const std::string& name) {
  auto body = http_request(port, "GET", "/metrics").body;
  auto at = body.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(body.substr(at + name.size() + 2));
}

/// How many times `what` occurs in `text` (a daemon's log, /metrics), overlaps counted.
inline std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

/// Polls until `done()` or `timeout`.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

/// The latest throughput message (highest total) seen on the throughput queue.
class throughput_view {
public:
  void update(amqp_session& s, const daemon_process& d) {
    for (auto& m : s.drain(d.route("throughput_queue"))) {
      auto j = nlohmann::json::parse(m.body);
      if (latest_.is_null() || j["total_message_count"].get<std::uint64_t>() >= latest_["total_message_count"].get<std::uint64_t>())
        latest_ = std::move(j);
    }
  }
  std::uint64_t successful() const { return latest_.is_null() ? 0 : latest_["total_successful_count"].get<std::uint64_t>(); }
  std::uint64_t failed() const { return latest_.is_null() ? 0 : latest_["total_failed_count"].get<std::uint64_t>(); }
  std::uint64_t total() const { return latest_.is_null() ? 0 : latest_["total_message_count"].get<std::uint64_t>(); }
  const nlohmann::json& latest() const { return latest_; }

private:
  nlohmann::json latest_;
};

/// Publishes one control message (message and correlation id `id`) and waits for its confirm.
inline void send_control(amqp_session& s, const daemon_process& d, const std::string& body, const std::string& id) {
  s.publish(d.route("exchange"), d.route("control_routing_key"), body, id, id);
  s.wait_confirms();
}

/// Pipeline events seen so far on the events queue.
class event_view {
public:
  void update(amqp_session& s, const daemon_process& d) {
    for (auto& m : s.drain(d.route("events_queue")))
      events_.push_back(nlohmann::json::parse(m.body));
  }
  std::vector<nlohmann::json> named(const std::string& name) const {
    std::vector<nlohmann::json> out;
    for (const auto& e : events_)
      if (e.value("event", "") == name)
        out.push_back(e);
    return out;
  }

private:
  std::vector<nlohmann::json> events_;
};

} // namespace telluride::test
