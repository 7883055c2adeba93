// deploy/rabbitmq-users.sh: the daemon, dashboard and sensors users can each do their job with
// the real programs, and the broker refuses each of them what lies beyond it.
#include "daemon_checks.hpp"
#include "daemon_process.hpp"
#include "shard_members.hpp"

#include <doctest/doctest.h>

#include <amqp.h>
#include <causeway/amqp/bytes.hpp>
#include <causeway/amqp/channel.hpp>

#include <filesystem>
#include <map>

using namespace e2e;
using telluride::test::daemon_process;
using telluride::test::http_request;
using telluride::test::metric_of;
using telluride::test::active_shards;

namespace {

std::map<std::string, std::string> read_env_file(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in{path};
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos)
      out[line.substr(0, eq)] = line.substr(eq + 1);
  return out;
}

/// What the broker answers `step`, run on a fresh channel as the user of `url`.
amqp::failure attempt(const std::string& url, const std::function<amqp_rpc_reply_t(amqp::channel&)>& step) {
  amqp::connection_options options;
  options.url = url;
  options.name = unique_name("e2e-users-probe");
  auto conn = amqp::connection::open(options);
  REQUIRE_MESSAGE(conn, (conn ? "" : conn.err().message));
  amqp::failure result;
  (*conn)->run_sync([&] {
    result = (*conn)->with_temporary_channel([&](amqp::channel& ch) { return amqp::describe(step(ch), "probe"); });
  });
  return result;
}

void check_refused(const amqp::failure& f, const std::string& what, const std::string& user) {
  MESSAGE(f.message);
  CHECK(f.code == 403);
  CHECK(f.message.find("ACCESS_REFUSED") != std::string::npos);
  CHECK(f.message.find(what) != std::string::npos);
  CHECK(f.message.find("refused for user '" + user + "'") != std::string::npos);
}

} // namespace

TEST_CASE("rabbitmq-users.sh: the daemon, dashboard and sensors users do their jobs and are refused the rest") {
  amqp_test::private_broker broker{7};
  daemon_process d{"users" + std::to_string(::getpid())};
  const std::string exchange = d.route("exchange");
  const std::string prefix = exchange.substr(0, exchange.size() - std::string("sensor_events").size());
  const std::string users_file = d.config_path() + ".users";
  auto users = [&](const std::string& action) {
    command cmd;
    cmd.args = {"/bin/sh", "-c", "exec env " + broker.script_env() + "TELLURIDE_ROUTES_PREFIX=" + shell_quote(prefix) +
                                   " TELLURIDE_USERS_FILE=" + shell_quote(users_file) + " " +
                                   shell_quote(source_dir() + "/deploy/rabbitmq-users.sh") + " " + action};
    cmd.timeout = 40s;
    return run(std::move(cmd));
  };
  REQUIRE(users("delete").exit_code == 0);  // the private broker keeps its data between runs
  auto created = users("create");
  INFO(created.out, created.err);
  REQUIRE(created.exit_code == 0);
  auto env = read_env_file(users_file);
  REQUIRE(env.size() == 6);
  CHECK(std::filesystem::status(users_file).permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  for (const char* role : {"DAEMON", "DASHBOARD", "SENSORS"}) {
    const auto& password = env["TELLURIDE_" + std::string(role) + "_PASSWORD"];
    CHECK(password.size() == 32);
    CHECK(created.out.find(password) == std::string::npos);
    CHECK(created.err.find(password) == std::string::npos);
  }
  const std::string daemon_url = env["TELLURIDE_DAEMON_URL"];
  const std::string dashboard_url = env["TELLURIDE_DASHBOARD_URL"];
  const std::string sensors_url = env["TELLURIDE_SENSORS_URL"];
  CHECK(daemon_url == "amqp://telluride-daemon:" + env["TELLURIDE_DAEMON_PASSWORD"] + "@127.0.0.1:" +
                        std::to_string(broker.port()) + "/%2f");

  // The daemon declares its topology, consumes and publishes as its own user.
  d.launch({"pipeline", "--config", d.config_path(), "--amqp", daemon_url});
  REQUIRE(wait_until([&] { return http_request(d.port(), "GET", "/readyz").status == 200 || d.exited(); },
                     within_budget(20s)));
  REQUIRE_MESSAGE(!d.exited(), d.log());

  auto sensors = run(telluride_command({"sensors", "--config", d.config_path(), "--amqp", sensors_url, "--count", "10",
                                        "--rate", "3000", "--messages", "300"}, 20s));
  INFO(sensors.err);
  CHECK(sensors.exit_code == 0);
  CHECK(wait_until([&] { return metric_of(d.port(), "telluride_amqp_acked_total") >= 300; }, within_budget(15s)));
  CHECK(metric_of(d.port(), "telluride_amqp_acked_total") == 300);

  // The dashboard reads an output queue, and taps an output route with a private queue.
  auto from_queue = run(telluride_command({"tail", "aggregates", "--from-queue", "--count", "1", "--config",
                                           d.config_path(), "--amqp", dashboard_url}, 20s));
  INFO(from_queue.err);
  CHECK(from_queue.exit_code == 0);
  REQUIRE(split_lines(from_queue.out).size() == 1);
  CHECK(nlohmann::json::parse(from_queue.out).contains("total_reads"));
  child_process tap(telluride_command({"tail", "aggregates", "--count", "1", "--config", d.config_path(), "--amqp",
                                       dashboard_url}, 30s));
  // The tap's private queue is bound some time after it starts: readings go out in small rounds
  // until one of their aggregates reaches it (polling `rabbitmqctl` for the queue took longer than
  // the whole exchange on a loaded host).
  bool is_tapped = false;
  for (int round = 0; round < 20 && !is_tapped; ++round) {
    auto more = run(telluride_command({"sensors", "--config", d.config_path(), "--amqp", sensors_url, "--count",
                                       "10", "--rate", "3000", "--messages", "50"}, 20s));
    REQUIRE(more.exit_code == 0);
    is_tapped = tap.wait_for_lines(1, 1s);
  }
  CHECK(is_tapped);
  auto tapped = tap.wait(within_budget(15s));
  INFO(tapped.err);
  CHECK(tapped.exit_code == 0);
  CHECK(split_lines(tapped.out).size() == 1);

  // Beyond their jobs.
  check_refused(attempt(sensors_url, [&](amqp::channel& ch) {
    return amqp_basic_get(ch.state(), ch.id(), amqp::view(prefix + "sensor_reading_queue"), 0);
  }), "access to queue '" + prefix + "sensor_reading_queue'", "telluride-sensors");
  check_refused(attempt(sensors_url, [&](amqp::channel& ch) {
    amqp_exchange_delete(ch.state(), ch.id(), amqp::view(exchange), 0);
    return amqp_get_rpc_reply(ch.state());
  }), "access to exchange '" + exchange + "'", "telluride-sensors");
  check_refused(attempt(dashboard_url, [&](amqp::channel& ch) {
    std::string change = R"({"batch_timeout_ms": 10})";
    amqp_basic_publish(ch.state(), ch.id(), amqp::view(exchange), amqp::view("sensor.config"), 0, 0, nullptr, amqp::view(change));
    // Answered only after the broker dealt with the publish: by the channel.close refusing it.
    amqp_exchange_declare(ch.state(), ch.id(), amqp::view(exchange), amqp::view("direct"), 1, 0, 0, 0, amqp_empty_table);
    return amqp_get_rpc_reply(ch.state());
  }), "access to exchange '" + exchange + "'", "telluride-dashboard");
  check_refused(attempt(dashboard_url, [&](amqp::channel& ch) {
    amqp_queue_delete(ch.state(), ch.id(), amqp::view(prefix + "sensor_health_queue"), 0, 0);
    return amqp_get_rpc_reply(ch.state());
  }), "access to queue '" + prefix + "sensor_health_queue'", "telluride-dashboard");
  check_refused(attempt(daemon_url, [&](amqp::channel& ch) {
    amqp_queue_declare(ch.state(), ch.id(), amqp::view("not-telluride"), 0, 0, 0, 1, amqp_empty_table);
    return amqp_get_rpc_reply(ch.state());
  }), "access to queue 'not-telluride'", "telluride-daemon");
  auto config_set = run(telluride_command({"config", "set", "batch_timeout_ms=10", "--config", d.config_path(),
                                           "--amqp", dashboard_url}, 20s));
  CHECK(config_set.exit_code != 0);
  CHECK(split_lines(config_set.err).size() == 1);
  CHECK(config_set.err.find("ACCESS_REFUSED") != std::string::npos);

  // Again: nothing changes, no password is replaced.
  auto again = users("create");
  INFO(again.out, again.err);
  CHECK(again.exit_code == 0);
  CHECK(read_env_file(users_file) == env);
  CHECK(again.out.find("telluride-sensors exists: password unchanged") != std::string::npos);

  CHECK(d.stop() == std::optional<int>{0});
  // Durable mode's snapshot index: the daemon declared it and wrote its entry as its own user,
  // and may read it.
  CHECK(d.log().find("could not be indexed") == std::string::npos);
  bool is_indexed = false;
  CHECK_FALSE(attempt(daemon_url, [&](amqp::channel& ch) {
    auto reply = amqp_basic_get(ch.state(), ch.id(), amqp::view(prefix + "telluride_state.index.1.0"), 0);
    is_indexed = reply.reply_type == AMQP_RESPONSE_NORMAL && reply.reply.id == AMQP_BASIC_GET_OK_METHOD;
    return reply;
  }));
  CHECK(is_indexed);

  // With shards > 1 the daemon also declares the heartbeat exchange and its own queue on it,
  // publishes and reads heartbeats, and tails the state stream: both shards become its own.
  d.launch({"pipeline", "--config", d.config_path(), "--amqp", daemon_url, "--shards", "2", "--node", "users-k2"});
  CHECK(wait_until([&] { return active_shards(d.port()).size() == 2 || d.exited(); }, within_budget(15s)));
  INFO(d.log());
  CHECK(active_shards(d.port()).size() == 2);
  CHECK(d.stop() == std::optional<int>{0});
  std::filesystem::remove(users_file);
}
