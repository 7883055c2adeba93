// fault_checks.hpp — the fault matrix (issue P2.1): how big each run is, and what every
// scenario asserts once its fault is over — exact counts, the daemon alive, /readyz truthful.
//
// Each scenario is one function taking its size; it is registered twice: a short run (name
// ending "[ci]", label `fault`, in every CI run) and a full one (name ending "[full]", labels
// `fault` and `slow`: `ctest -L slow`). Only 127.0.0.1 is ever contacted.
#pragma once

#include "../e2e/daemon_checks.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace fault_test {

using namespace std::chrono_literals;
using namespace telluride::test;

/// JSON arrays nested `depth` deep: `[[[...]]]`.
inline std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

/// How many of each fault one run of the matrix injects.
struct fault_sizes {
  int broker_restarts;
  int daemon_kills;
  int network_stalls;
  std::size_t poison_readings;
  std::size_t malformed_rounds;  ///< every kind of malformed control message, this many times
  int reconfigurations;
};

inline constexpr fault_sizes ci_sizes{2, 2, 1, 100, 1, 5};
inline constexpr fault_sizes full_sizes{10, 10, 5, 10'000, 31, 100};  // 31 rounds of 34 kinds: 1,054 messages

/// Private brokers of this suite (slots 10, 12, 14, 16: 20 ports apart, clear of the other suites').
enum class broker_slot : int { restarts = 10, stall = 12, consumer_timeout = 14, sharded_restarts = 16, sharded_restarts_one = 18 };

/// Polls GET /readyz until it answers `status` (bounded by `timeout`).
inline bool readyz_becomes(const daemon_process& d, int status, std::chrono::milliseconds timeout) {
  return eventually([&] { return http_request(d.port(), "GET", "/readyz").status == status; }, timeout);
}

/// Polls the daemon's counter `name` (GET /metrics) until it reaches `at_least`.
inline bool metric_reaches(const daemon_process& d, const std::string& name, double at_least,
                           std::chrono::milliseconds timeout) {
  return eventually([&] { return metric_of(d.port(), name) >= at_least; }, timeout);
}

/// Publishes `list` (messages of a reading_set) in order to the daemon's readings route.
inline void publish_list(amqp_session& s, const daemon_process& d, const std::vector<const reading_message*>& list) {
  for (const auto* m : list)
    s.publish(d.route("exchange"), d.route("readings_routing_key"), m->body, m->message_id);
  s.wait_confirms();
}

/// Stops the scenario when the daemon died: nothing after that could pass. Shows its log's end.
inline void require_alive(daemon_process& d) {
  if (d.exited()) {
    auto log = d.log();
    FAIL("the daemon died; the end of its log:\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
  }
}

/// Waits for the aggregates of `want`, then checks every field of every sensor, and the
/// throughput totals of this process: exactly `successful` readings and `failed` failures.
inline void check_counts_exact(amqp_session& s, daemon_process& d,
                               const std::map<std::string, expected_aggregate>& want, std::uint64_t successful,
                               std::uint64_t failed, std::chrono::seconds timeout = 120s) {
  require_alive(d);
  aggregate_view aggregates;
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, timeout));
  aggregates.check(want);
  throughput_view totals;
  CHECK(eventually([&] { totals.update(s, d); return totals.total() >= successful + failed; }, 30s));
  std::this_thread::sleep_for(500ms);  // one more throughput tick: nothing beyond the total
  totals.update(s, d);
  CHECK(totals.successful() == successful);
  CHECK(totals.failed() == failed);
}

/// Takes every dead letter of the daemon's dlx route, waiting until there are `n` (bounded).
inline std::vector<received> take_dead_letters(amqp_session& s, const daemon_process& d, std::size_t n,
                                               std::chrono::milliseconds timeout = 30s) {
  std::vector<received> dead;
  eventually([&] {
    auto more = s.drain(d.route("dead_letter_queue"));
    dead.insert(dead.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    return dead.size() >= n;
  }, timeout);
  std::this_thread::sleep_for(300ms);  // none beyond n
  auto more = s.drain(d.route("dead_letter_queue"));
  dead.insert(dead.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  return dead;
}

/// The end of every scenario: the daemon is alive and ready, drains and exits 0 on SIGTERM,
/// and nothing is left in its input queues (unacknowledged messages would be ready again).
inline void check_alive_ready_and_drained(amqp_session& s, daemon_process& d) {
  CHECK_FALSE(d.exited());
  CHECK(readyz_becomes(d, 200, 10s));
  CHECK(d.stop() == std::optional<int>{0});
  CHECK(s.ready(d.route("readings_queue")) == 0);
  CHECK(s.ready(d.route("control_queue")) == 0);
}

/// Maps message ids back to the messages of `set`.
inline std::map<std::string, const reading_message*> by_message_id(const reading_set& set) {
  std::map<std::string, const reading_message*> out;
  for (const auto& m : set.messages())
    out[m.message_id] = &m;
  return out;
}

} // namespace fault_test
