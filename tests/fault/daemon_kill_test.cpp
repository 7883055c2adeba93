// Fault matrix: kill -9 of the daemon in memory mode (`state: memory`) while it works through a
// backlog, then a restart, over and over (durable mode: durable_kill_test.cpp). Aggregates live
// in memory, so what must hold: nothing is lost from the queue (what a killed daemon did not acknowledge is queued
// again, whole), every reading is handled at least once, and within one process's life each
// reading is counted once and in order — the aggregates a killed daemon published are exactly
// those of a prefix, per sensor, of what was queued when it started.
//
// Between a kill and the next start the test takes the queue's content (basic.get) and queues
// it again in the same order, so it knows exactly what the next process is given.
#include "fault_checks.hpp"

using namespace fault_test;

namespace {

using reading_list = std::vector<const reading_message*>;

/// The readings of each sensor in `queued`, in queue order.
std::map<std::string, reading_list> per_sensor(const reading_set& set, const reading_list& queued) {
  std::map<std::string, reading_list> out;
  for (const auto* m : queued)
    out[set.ids()[m->sensor].key()].push_back(m);
  return out;
}

/// Checks the latest aggregates a process published against what it was given: per sensor,
/// exactly the first total_reads readings of the sensor, in queue order, each once.
void check_prefix_aggregates(const reading_set& set, const reading_list& given, const aggregate_view& published) {
  auto sensors = per_sensor(set, given);
  for (const auto& [key, a] : published.latest()) {
    INFO("sensor " << key << ": " << a.dump());
    REQUIRE_MESSAGE(sensors.count(key) == 1, "an aggregate for a sensor the process was given no reading of");
    const auto& list = sensors.at(key);
    auto reads = a["total_reads"].get<std::size_t>();
    REQUIRE(reads >= 1);
    REQUIRE(reads <= list.size());  // counted once
    auto e = reading_set::aggregate_of(reading_list(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(reads)));
    CHECK(a["min"].get<double>() == e.min);
    CHECK(a["max"].get<double>() == e.max);
    CHECK(close(a["mean"].get<double>(), e.mean));
    CHECK(close(a["stddev"].get<double>(), e.stddev));
    CHECK(a["last_reading"].get<double>() == e.last);
    CHECK(a["last_timestamp"].get<std::string>() == e.last_timestamp);
  }
}

/// Takes everything queued for the (stopped) daemon: each a reading of `set`, none twice, all
/// of them among `before`.
reading_list take_queue(amqp_session& s, const daemon_process& d, const reading_set& set, const reading_list& before) {
  auto ids = by_message_id(set);
  std::set<const reading_message*> allowed(before.begin(), before.end());
  std::set<const reading_message*> seen;
  reading_list out;
  for (auto& m : s.drain(d.route("readings_queue"))) {
    auto it = ids.find(m.message_id);
    REQUIRE_MESSAGE(it != ids.end(), "a message in the queue that was never published: " << m.body);
    CHECK(m.body == it->second->body);
    CHECK_MESSAGE(allowed.count(it->second) == 1, "queued again after it was acknowledged: " << m.message_id);
    CHECK_MESSAGE(seen.insert(it->second).second, "queued twice: " << m.message_id);
    out.push_back(it->second);
  }
  return out;
}

void daemon_kills_under_load(int kills) {
  // At most 2,000 readings/s: each process is killed with a backlog still queued.
  daemon_process d{"kill" + std::to_string(::getpid()),
                   {{"state", "memory"}, {"rate_limit_allowed", 200}, {"rate_limit_interval", 100}}};
  const std::size_t total = 4000 * static_cast<std::size_t>(kills) + 4000;
  reading_set set{300, total, 79, "kill"};
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_list queued;
  for (const auto& m : set.messages())
    queued.push_back(&m);

  std::size_t acknowledged = 0;  // by the killed processes, together
  for (int round = 0; round < kills; ++round) {
    INFO("kill " << round + 1 << " of " << kills);
    d.start();  // also after a kill -9: becomes ready again
    if (round == 0)
      publish_list(s, d, queued);
    CHECK(metric_reaches(d, "telluride_amqp_consumed_total", 1500, 30s));
    CHECK(s.ready(d.route("readings_queue")) > 0);  // under load
    CHECK(d.stop(SIGKILL) == std::optional<int>{128 + SIGKILL});
    // The broker takes back what the dead connection held.
    CHECK(eventually([&] { return amqp_test::list_queue(d.route("readings_queue")).unacked == 0; }, 20s));
    aggregate_view published;
    published.update(s, d);
    s.drain(d.route("throughput_queue"));  // the next process counts from zero
    check_prefix_aggregates(set, queued, published);
    auto left = take_queue(s, d, set, queued);
    CHECK(left.size() < queued.size());  // it acknowledged some
    acknowledged += queued.size() - left.size();
    queued = std::move(left);
    publish_list(s, d, queued);
  }

  // The last process takes the rest: exact over exactly what it was given.
  d.start();
  check_counts_exact(s, d, set.expected_of(queued), queued.size(), 0);
  MESSAGE(kills << " kills: " << acknowledged << " readings acknowledged by killed daemons, " << queued.size()
                << " by the last");
  CHECK(s.ready(d.route("dead_letter_queue")) == 0);
  check_alive_ready_and_drained(s, d);
}

} // namespace

TEST_CASE("kill -9 of the daemon in memory mode under load: nothing lost from the queue, counted once per process life [ci]") {
  daemon_kills_under_load(ci_sizes.daemon_kills);
}

TEST_CASE("kill -9 of the daemon in memory mode under load: nothing lost from the queue, counted once per process life [full]") {
  daemon_kills_under_load(full_sizes.daemon_kills);
}
