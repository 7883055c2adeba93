// GET /api/stream and GET /api/config/schema of a running daemon on the test broker: the live
// snapshots come every second, the totals rise as readings are handled, alerts and a new config
// version show up, and the schema is the option table's.
#include "daemon_checks.hpp"

#include "telluride/domain/reconfiguration_schema.hpp"
#include "telluride/telemetry/host_cpu.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>

using namespace telluride::test;

namespace {

/// A viewer of GET /api/stream on plain sockets; every read is bounded by its deadline.
class stream_viewer {
public:
  explicit stream_viewer(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::string request = "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    REQUIRE(::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  }
  ~stream_viewer() { ::close(fd_); }
  stream_viewer(const stream_viewer&) = delete;
  stream_viewer& operator=(const stream_viewer&) = delete;

  /// The response head (through the blank line), or nullopt when it did not come by `deadline`.
  std::optional<std::string> head(std::chrono::steady_clock::time_point deadline) {
    return read_through("\r\n\r\n", deadline);
  }

  /// The JSON of the next `data:` event, or nullopt when none came by `deadline`.
  std::optional<nlohmann::json> next(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      auto event = read_through("\n\n", deadline);
      if (!event)
        return std::nullopt;
      if (event->rfind("data: ", 0) == 0)  // skip the retry field
        return nlohmann::json::parse(event->substr(6, event->size() - 8));
    }
  }

private:
  std::optional<std::string> read_through(std::string_view marker, std::chrono::steady_clock::time_point deadline) {
    std::size_t at;
    while ((at = buffer_.find(marker)) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return std::nullopt;
      char chunk[65536];
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0)
        return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    auto out = buffer_.substr(0, at + marker.size());
    buffer_.erase(0, at + marker.size());
    return out;
  }

  int fd_ = -1;
  std::string buffer_;
};

} // namespace

TEST_CASE("the live stream sends a snapshot every second and its totals rise with the readings handled") {
  daemon_process d{"live" + std::to_string(::getpid()), {{"http_token", "s3cret"}, {"alert_after", 3}}};
  d.start();
  stream_viewer viewer{d.port()};
  auto start = std::chrono::steady_clock::now();
  auto head = viewer.head(start + 3s);
  REQUIRE(head);
  CHECK(head->rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head->find("Content-Type: text/event-stream") != std::string::npos);
  // The latest snapshot comes at once, the next within about a second: two within 3 s.
  auto first = viewer.next(start + 3s);
  REQUIRE(first);
  auto second = viewer.next(start + 3s);
  REQUIRE(second);
  CHECK((*second)["taken_ms"].get<std::int64_t>() > (*first)["taken_ms"].get<std::int64_t>());
  CHECK((*second)["config_version"] == 0);
  CHECK((*second)["status"]["ready"] == true);
  CHECK((*second)["totals"]["messages"] == 0);
  CHECK((*second)["alerts"].empty());
  // The host's per-core CPU since the previous snapshot: one share for each cpuN of /proc/stat.
  std::ifstream stat{"/proc/stat"};
  auto cores = telluride::parse_proc_stat(std::string{std::istreambuf_iterator<char>(stat), {}});
  REQUIRE(cores);
  REQUIRE((*second)["cpu_percent"].size() == cores->size());
  for (const auto& share : (*second)["cpu_percent"])
    CHECK((share.get<double>() >= 0.0 && share.get<double>() <= 100.0));

  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{5, 50, 3, "live"};
  publish_readings(s, d, set, 0, 50);
  // Three readings above the default threshold (100) in a row: one alert.
  for (int i = 0; i < 3; ++i)
    s.publish(d.route("exchange"), d.route("readings_routing_key"),
              R"({"line_id": 7, "device_id": 7, "sensor_id": 7, "reading": 150.5, "timestamp": 1763800000000})",
              "live-hot-" + std::to_string(i));
  s.wait_confirms();

  std::optional<nlohmann::json> seen;
  auto deadline = std::chrono::steady_clock::now() + e2e::within_budget(20s);
  while (auto event = viewer.next(deadline)) {
    if ((*event)["totals"]["successful"] == 53 && (*event)["alerts"].size() == 1) {
      seen = std::move(event);
      break;
    }
  }
  REQUIRE(seen);
  const auto& doc = *seen;
  CHECK(doc["totals"]["messages"] == 53);
  CHECK(doc["totals"]["failed"] == 0);
  CHECK(doc["totals"]["successful_percent"] == 100.0);
  CHECK(doc["totals"]["sensors"] == 6);
  CHECK(doc["alerts"][0]["event"] == "threshold_exceeded");
  CHECK(doc["alerts"][0]["sensor_id"] == 7);
  CHECK(doc["alerts"][0]["consecutive"] == 3);
  std::size_t processors = 0;
  for (const auto& stage : doc["stages"]) {
    CHECK(stage["workload"].get<double>() >= 0.0);
    CHECK(stage["workload"].get<double>() <= 1.0);
    processors += stage["node_type"] == "processor";
  }
  CHECK(processors == 2);  // processor_concurrency's default

  // A new config version is streamed too.
  auto applied = http_request(d.port(), "POST", "/api/config", R"({"processor_concurrency": 3})",
                              "Authorization: Bearer s3cret\r\n");
  REQUIRE(applied.status == 200);
  bool saw_version = false;
  deadline = std::chrono::steady_clock::now() + e2e::within_budget(10s);
  while (auto event = viewer.next(deadline))
    if ((saw_version = (*event)["config_version"] == 1))
      break;
  CHECK(saw_version);

  auto metrics = http_request(d.port(), "GET", "/metrics").body;
  CHECK(metrics.find("# TYPE telluride_stage_duration_seconds histogram\n") != std::string::npos);
  CHECK(metrics.find("telluride_stage_workload{node_type=\"processor\"") != std::string::npos);
  CHECK(metrics.find("telluride_stage_busy_seconds_total{node_type=\"batch_processor\"") != std::string::npos);
  CHECK(d.stop() == std::optional<int>{0});
}

namespace {

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

TEST_CASE("a viewer arriving after nobody watched gets a snapshot taken after it came, not a stale one") {
  daemon_process d{"livelate" + std::to_string(::getpid()), {{"http_token", "s3cret"}}};
  d.start();
  for (int viewer_number = 0; viewer_number < 2; ++viewer_number) {
    std::this_thread::sleep_for(1500ms);  // nobody watches: nothing is rendered
    const auto came = epoch_ms();
    stream_viewer viewer{d.port()};
    auto start = std::chrono::steady_clock::now();
    REQUIRE(viewer.head(start + 3s));
    auto first = viewer.next(start + 3s);
    REQUIRE(first);
    // Rendered for this viewer: the latest frame published before it came would be older.
    CHECK((*first)["taken_ms"].get<std::int64_t>() >= came);
    auto second = viewer.next(start + 3s);
    REQUIRE(second);
    CHECK((*second)["taken_ms"].get<std::int64_t>() > (*first)["taken_ms"].get<std::int64_t>());
  }
}

TEST_CASE("GET /api/config/schema is the table the daemon validates reconfigurations with") {
  daemon_process d{"schema" + std::to_string(::getpid())};
  d.start();
  auto reply = http_request(d.port(), "GET", "/api/config/schema");
  CHECK(reply.status == 200);
  CHECK(nlohmann::json::parse(reply.body) == telluride::reconfiguration_schema_json());
  CHECK(d.stop() == std::optional<int>{0});
}
