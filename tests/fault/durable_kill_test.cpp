// Fault matrix: kill -9 of the daemon in durable mode (the default) while readings flow, then a
// restart, over and over (CONTRACT §7, Exact across everything). Each process restores the
// state the killed one had checkpointed; what the killed one applied but had not checkpointed
// was never acknowledged, so the broker gives it again and it is applied once. At the end the
// aggregates are exact over every reading published, counted once since the first start; the
// queue is empty and nothing is unacknowledged.
#include "fault_checks.hpp"

// Its own namespace: the unity build compiles several test files as one.
namespace durable_kill_test {

using namespace fault_test;

namespace {

struct kill_run {
  int kills;
  std::size_t readings;
  std::size_t sensors;
};

void durable_kills_under_load(const kill_run& run) {
  // About 1,000 readings/s: each process is killed with readings still queued. (At 2,500/s a
  // CI host loaded by the sanitizer tests and the fuzzers beside this one saw the metric only
  // after the whole queue was consumed: nothing was left to kill the process in the middle of.)
  daemon_process d{"dkill" + std::to_string(::getpid()), {{"rate_limit_allowed", 100}, {"rate_limit_interval", 100}}};
  reading_set set{run.sensors, run.readings, 83, "dkill"};
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  d.start();
  publish_readings(s, d, set, 0, run.readings);  // every reading has its message_id
  const double per_life = static_cast<double>(run.readings) / (run.kills + 1);

  std::uint64_t restored_before = 0;
  for (int kill = 0; kill < run.kills; ++kill) {
    INFO("kill " << kill + 1 << " of " << run.kills);
    // Killed halfway through its share: some readings acknowledged (checkpointed), some
    // applied but not checkpointed yet, the rest queued.
    CHECK(metric_reaches(d, "telluride_amqp_consumed_total", per_life / 2, 60s));
    CHECK(metric_of(d.port(), "telluride_amqp_acked_total") > 0);
    CHECK(s.ready(d.route("readings_queue")) > 0);
    CHECK(d.stop(SIGKILL) == std::optional<int>{128 + SIGKILL});
    // The broker takes back what the dead connection held.
    CHECK(eventually([&] { return amqp_test::list_queue(d.route("readings_queue")).unacked == 0; }, 20s));
    d.start();
    const double restored = metric_of(d.port(), "telluride_restored_sensors");
    CHECK(restored >= static_cast<double>(restored_before));  // sensors are never forgotten
    CHECK(restored > 0);
    restored_before = static_cast<std::uint64_t>(restored);
    CHECK(metric_of(d.port(), "telluride_owner_epoch") == kill + 2);
  }

  // The last process takes the rest: the aggregates count every reading once since the first
  // start (each process's throughput counts only its own).
  require_alive(d);
  aggregate_view aggregates;
  const auto want = set.expected(run.readings);
  CHECK(eventually([&] { aggregates.update(s, d); return aggregates.matches(want); }, 120s));
  aggregates.check(want);
  CHECK(metric_of(d.port(), "telluride_sensors") == static_cast<double>(run.sensors));
  MESSAGE(run.kills << " kills: the last process recognised "
                    << metric_of(d.port(), "telluride_readings_duplicate_total")
                    << " redelivered readings whose effect a checkpoint already held");
  CHECK(s.ready(d.route("dead_letter_queue")) == 0);
  check_alive_ready_and_drained(s, d);
  auto queue = amqp_test::list_queue(d.route("readings_queue"));
  CHECK(queue.ready == 0);
  CHECK(queue.unacked == 0);
}

} // namespace

TEST_CASE("kill -9 of the daemon in durable mode under load: aggregates exact over every reading since the first start [ci]") {
  durable_kills_under_load({2, 10'000, 500});
}

TEST_CASE("kill -9 of the daemon in durable mode under load: aggregates exact over every reading since the first start [full]") {
  durable_kills_under_load({5, 50'000, 500});
}

} // namespace durable_kill_test
