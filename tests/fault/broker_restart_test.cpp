// Fault matrix: the broker restarts (stop_app / start_app) while the daemon works through a
// backlog. The daemon stays alive, /readyz is 503 while the broker is away and 200 once it
// consumes again, and every reading is counted exactly once (redeliveries carry message_id).
#include "fault_checks.hpp"

#include "../e2e/shard_members.hpp"

using namespace fault_test;

namespace {

/// The readings queues of `d` with `shards`: the one queue, or the shard queues.
std::vector<std::string> readings_queues(const daemon_process& d, int shards) {
  if (shards == 1)
    return {d.route("readings_queue")};
  std::vector<std::string> out;
  for (int shard = 0; shard < shards; ++shard)
    out.push_back(d.route("readings_queue") + "." + std::to_string(shard));
  return out;
}

/// `shards` > 1: the one daemon holds every shard, restores each after a restart and applies
/// again what it applied after their last confirmed checkpoints; its totals still count each
/// reading once.
void broker_restarts_under_load(int restarts, int shards = 1) {
  amqp_test::private_broker broker{
    static_cast<int>(shards == 1 ? broker_slot::restarts : broker_slot::sharded_restarts_one)};
  // At most 500 readings/s (rabbitmqctl takes seconds): a backlog is still queued at every restart.
  daemon_process d{"restarts" + std::to_string(shards) + "_" + std::to_string(::getpid()),
                   {{"amqp_url", broker.url()}, {"shards", shards}, {"rate_limit_allowed", 50},
                    {"rate_limit_interval", 100}}};
  d.start();
  const std::size_t total = 5000 * static_cast<std::size_t>(restarts) + 5000;
  reading_set set{300, total, 61, "restarts"};
  {
    amqp_session s{broker.url()};
    if (shards == 1)
      publish_readings(s, d, set, 0, total);
    else
      publish_keyed(s, d, set, 0, total);
  }
  auto ready = [&](amqp_session& s) {
    long n = 0;
    for (const auto& q : readings_queues(d, shards))
      n += s.ready(q);
    return n;
  };
  double consumed = 0;
  for (int round = 0; round < restarts; ++round) {
    INFO("restart " << round + 1 << " of " << restarts);
    // Under load: the daemon has taken 1,000 more deliveries since it came back.
    CHECK(metric_reaches(d, "telluride_amqp_consumed_total", consumed + 1000, 30s));
    {
      amqp_session s{broker.url()};
      CHECK(ready(s) > 0);
    }
    REQUIRE_MESSAGE(broker.ctl("stop_app") == 0, broker.last_output());
    CHECK(readyz_becomes(d, 503, 15s));
    std::this_thread::sleep_for(1s);
    CHECK_FALSE(d.exited());
    CHECK(http_request(d.port(), "GET", "/readyz").status == 503);  // still away: still not ready
    REQUIRE_MESSAGE(broker.ctl("start_app") == 0, broker.last_output());
    CHECK(readyz_becomes(d, 200, 40s));
    consumed = metric_of(d.port(), "telluride_amqp_consumed_total");
  }

  amqp_session s{broker.url()};
  send_control(s, d, R"({"rate_limit_allowed": 0})", "unlimited");  // the rest at full speed
  event_view events;
  CHECK(eventually([&] { events.update(s, d); return events.named("config_applied").size() == 1; }, 60s));
  check_counts_exact(s, d, set.expected(total), total, 0);
  CHECK(metric_of(d.port(), "telluride_amqp_connection_losses_total") >= restarts);
  MESSAGE(restarts << " restarts: " << metric_of(d.port(), "telluride_readings_duplicate_total")
                   << " redelivered readings recognised and not counted again");
  CHECK(s.ready(d.route("dead_letter_queue")) == 0);
  CHECK(ready(s) == 0);
  check_alive_ready_and_drained(s, d);
  // No checkpoint confirmed into nothing while the stream came back (the exchange routed, the
  // stream was not there yet): the round fails instead, so the follower finds no gap.
  CHECK(d.log().find("missing from the state stream though the broker confirmed them") == std::string::npos);
}

} // namespace

TEST_CASE("broker restarts under load: the daemon lives, /readyz follows the broker, counts stay exact [ci]") {
  broker_restarts_under_load(ci_sizes.broker_restarts);
}

TEST_CASE("broker restarts under load: the daemon lives, /readyz follows the broker, counts stay exact [full]") {
  broker_restarts_under_load(full_sizes.broker_restarts);
}

TEST_CASE("broker restarts under load, one daemon holding 4 shards: each reading counted once in its totals [ci]") {
  broker_restarts_under_load(1, 4);  // CI's time is short: one restart
}

TEST_CASE("broker restarts under load, one daemon holding 4 shards: each reading counted once in its totals [full]") {
  broker_restarts_under_load(3, 4);
}
