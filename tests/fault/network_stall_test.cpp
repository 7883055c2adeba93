// Fault matrix: the network between the daemon and the broker stalls (a proxy stops forwarding
// both ways without closing anything) for longer than the heartbeat timeout, then flows again;
// then every connection is reset. The daemon notices the silent broker by its missing
// heartbeats, /readyz is 503 while it is cut off and 200 once it consumes again, and every
// reading is counted exactly once.
#include "fault_checks.hpp"
#include "tcp_proxy.hpp"

using namespace fault_test;

namespace {

// The daemon asks for 30 s heartbeats; this broker offers 2 s and the lower one is used, so a
// silent broker is noticed after about 2 × 2 + 1 s.
constexpr auto broker_heartbeat = 2s;
constexpr auto stall = 9s;  // longer than the heartbeat timeout, with margin

void network_stalls_under_load(int stalls) {
  amqp_test::private_broker broker{static_cast<int>(broker_slot::stall),
                                   "heartbeat = " + std::to_string(broker_heartbeat.count())};
  tcp_proxy proxy{static_cast<std::uint16_t>(broker.port())};
  daemon_process d{"stall" + std::to_string(::getpid()),
                   {{"amqp_url", proxy.amqp_url()}, {"rate_limit_allowed", 200}, {"rate_limit_interval", 100}}};
  d.start();
  const std::size_t total = 6000 * static_cast<std::size_t>(stalls) + 6000;
  reading_set set{300, total, 67, "stall"};
  {
    amqp_session s{broker.url()};  // straight to the broker: the test's own link never stalls
    publish_readings(s, d, set, 0, total);
  }
  double consumed = 0;
  for (int round = 0; round < stalls; ++round) {
    INFO("stall " << round + 1 << " of " << stalls);
    CHECK(metric_reaches(d, "telluride_amqp_consumed_total", consumed + 1500, 30s));
    auto losses = metric_of(d.port(), "telluride_amqp_connection_losses_total");
    auto frozen_at = std::chrono::steady_clock::now();
    proxy.freeze();
    CHECK(readyz_becomes(d, 503, 4 * broker_heartbeat + 4s));
    MESSAGE("not ready " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - frozen_at).count()
                         << " ms into the stall");
    std::this_thread::sleep_until(frozen_at + stall);
    CHECK_FALSE(d.exited());
    CHECK(http_request(d.port(), "GET", "/readyz").status == 503);  // still cut off
    CHECK(metric_of(d.port(), "telluride_amqp_connection_losses_total") >= losses + 1);
    proxy.resume();
    CHECK(readyz_becomes(d, 200, 40s));
    consumed = metric_of(d.port(), "telluride_amqp_consumed_total");
  }

  // A reset of every connection mid-stream (the link drops instead of stalling).
  CHECK(metric_reaches(d, "telluride_amqp_consumed_total", consumed + 1000, 30s));
  CHECK(proxy.open_connections() >= 2);  // consuming and publishing
  proxy.cut();
  CHECK(eventually([&] { return proxy.open_connections() >= 2; }, 30s));  // reconnected
  CHECK(readyz_becomes(d, 200, 40s));

  amqp_session s{broker.url()};
  check_counts_exact(s, d, set.expected(total), total, 0);
  MESSAGE(stalls << " stalls and a reset: " << metric_of(d.port(), "telluride_readings_duplicate_total")
                 << " redelivered readings recognised and not counted again");
  CHECK(s.ready(d.route("dead_letter_queue")) == 0);
  check_alive_ready_and_drained(s, d);
}

} // namespace

TEST_CASE("the tcp proxy forwards, freezes without closing, resumes and cuts") {
  // An echo server on 127.0.0.1, behind the proxy.
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(server, 4) == 0);
  socklen_t length = sizeof address;
  ::getsockname(server, reinterpret_cast<sockaddr*>(&address), &length);
  std::thread echo{[server] {
    int c = ::accept(server, nullptr, nullptr);
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(c, buffer, sizeof buffer, 0)) > 0)
      ::send(c, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
    ::close(c);
  }};
  {
    tcp_proxy proxy{ntohs(address.sin_port)};
    int client = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to = address;
    to.sin_port = htons(proxy.port());
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    timeval tv{0, 500'000};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto round_trip = [&](const std::string& text) {
      ::send(client, text.data(), text.size(), MSG_NOSIGNAL);
      std::string got;
      char buffer[256];
      ssize_t n;
      while (got.size() < text.size() && (n = ::recv(client, buffer, sizeof buffer, 0)) > 0)
        got.append(buffer, static_cast<std::size_t>(n));
      return got;
    };
    CHECK(round_trip("hello") == "hello");
    CHECK(proxy.open_connections() == 1);
    proxy.freeze();
    CHECK(round_trip("held") == "");  // nothing comes back within 500 ms
    CHECK(proxy.open_connections() == 1);  // and nothing was closed
    proxy.resume();
    char buffer[16];
    CHECK(::recv(client, buffer, sizeof buffer, 0) == 4);  // what was held arrives
    CHECK(round_trip("again") == "again");
    proxy.cut();
    CHECK(proxy.open_connections() == 0);
    CHECK(::recv(client, buffer, sizeof buffer, 0) <= 0);  // reset: the client sees the end
    CHECK(proxy.accepted() == 1);
    ::close(client);
  }
  echo.join();
  ::close(server);
}

TEST_CASE("network stalls longer than the heartbeat timeout under load: noticed, 503 while away, counts exact [ci]") {
  network_stalls_under_load(ci_sizes.network_stalls);
}

TEST_CASE("network stalls longer than the heartbeat timeout under load: noticed, 503 while away, counts exact [full]") {
  network_stalls_under_load(full_sizes.network_stalls);
}
