// The daemon and the tools over amqps://, against a private broker whose TLS listener requires
// a client certificate (tls_broker.hpp): as users run them, with the URL on the command line.
#include "daemon_checks.hpp"
#include "daemon_process.hpp"
#include "tls_broker.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace e2e;
using telluride::test::daemon_process;
using telluride::test::http_request;
using telluride::test::metric_of;

TEST_CASE("over amqps the daemon takes what telluride sensors publishes, config set and tail work, and a wrong CA or name is one line") {
  amqp_test::tls_broker tls{13};
  const std::string url = tls.url(tls.trusted_query());
  daemon_process d{"tls" + std::to_string(::getpid()), {{"amqp_url", url}}};
  d.start(within_budget(25s));

  auto sensors = run(telluride_command({"sensors", "--config", d.config_path(), "--amqp", url, "--count", "20",
                                        "--rate", "5000", "--messages", "2000", "--seed", "11"},
                                       within_budget(30s)));
  INFO(sensors.err);
  REQUIRE(sensors.exit_code == 0);
  CHECK(wait_until([&] { return metric_of(d.port(), "telluride_amqp_acked_total") >= 2000; }, within_budget(20s)));
  CHECK(metric_of(d.port(), "telluride_amqp_consumed_total") == 2000);
  CHECK(metric_of(d.port(), "telluride_amqp_acked_total") == 2000);

  auto applied = run(telluride_command({"config", "set", "batch_timeout_ms=50", "--wait", "20", "--config",
                                        d.config_path(), "--amqp", url}, within_budget(30s)));
  INFO(applied.err);
  CHECK(applied.exit_code == 0);
  auto applied_lines = split_lines(applied.out);
  REQUIRE(applied_lines.size() == 1);
  CHECK(nlohmann::json::parse(applied_lines[0])["event"] == "config_applied");

  // The durable events queue holds that config_applied event (and the daemon's others).
  auto tail = run(telluride_command({"tail", "events", "--from-queue", "--count", "1", "--config", d.config_path(),
                                     "--amqp", url}, within_budget(20s)));
  INFO(tail.err);
  CHECK(tail.exit_code == 0);
  auto tail_lines = split_lines(tail.out);
  REQUIRE(tail_lines.size() == 1);
  CHECK(nlohmann::json::parse(tail_lines[0]).contains("event"));

  const auto& pki = tls.pki();
  auto refused = run(telluride_command({"sensors", "--config", d.config_path(), "--count", "1", "--rate", "10", "--messages", "1",
                                        "--amqp", tls.url("cacertfile=" + pki.other_ca() + "&certfile=" +
                                                          pki.client_cert() + "&keyfile=" + pki.client_key())},
                                       within_budget(20s)));
  INFO(refused.err);
  CHECK(refused.exit_code != 0);
  CHECK(refused.out.empty());
  CHECK(split_lines(refused.err).size() == 1);
  CHECK(refused.err.find("the broker's certificate does not verify") != std::string::npos);
  CHECK(refused.err.find("guest:guest") == std::string::npos);

  daemon_process refused_daemon{"tls-refused" + std::to_string(::getpid())};
  refused_daemon.launch({"pipeline", "--config", refused_daemon.config_path(), "--amqp",
                         tls.url("server_name_indication=broker.example&" + tls.trusted_query())});
  CHECK(refused_daemon.wait(within_budget(15s)) == std::optional<int>{1});
  auto log = refused_daemon.log();
  INFO(log);
  CHECK(log.rfind("telluride pipeline: cannot start on the broker", 0) == 0);
  CHECK(log.find("the broker's certificate is not for broker.example (hostname mismatch)") != std::string::npos);
  CHECK(log.find("guest:guest") == std::string::npos);
  CHECK(std::count(log.begin(), log.end(), '\n') == 1);

  CHECK(d.stop() == std::optional<int>{0});
}
