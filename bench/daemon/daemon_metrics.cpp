#include "daemon/daemon_metrics.hpp"

#include "support/http_client.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using bench::clock_type;

namespace daemon_bench {

std::string metrics_text(std::uint16_t port) {
  bench::http_call call;
  call.path = "/metrics";
  call.timeout = 5s;
  auto reply = bench::http_request(port, call);
  return reply && reply->status == 200 ? reply->body : std::string{};
}

void wait_until_ready(bench::child_process& daemon, std::uint16_t port, const std::string& which) {
  const auto started = clock_type::now();
  for (;;) {
    if (auto ended = daemon.wait(0ms))
      die(which + " ended early (" + bench::describe_status(*ended) + ")");
    bench::http_call call;
    call.path = "/readyz";
    call.timeout = 5s;
    if (auto reply = bench::http_request(port, call); reply && reply->status == 200)
      return;
    if (clock_type::now() - started > stall_timeout)
      die(which + " was not ready within " + std::to_string(stall_timeout.count()) + " s");
    std::this_thread::sleep_for(5ms);
  }
}

void wait_for_metric(bench::child_process& daemon, std::uint16_t port, const std::string& metric, double target,
                     const std::function<void(const std::string&)>& on_sample) {
  double seen = -1;
  auto last_progress = clock_type::now();
  // The first sample with progress: the rate since then tells how far the end is.
  std::optional<std::pair<clock_type::time_point, double>> first;
  // The wait shortens as the end nears (a third of the time left), so that the end is seen
  // within a few ms; in between, one poll a second at most. Every /metrics costs the daemon
  // ~0.3 ms of CPU (rendering ~26 KB of text, an HTTP exchange), which the no-op consumer it is
  // compared with does not pay: at 5 polls a second that was 2.6 % of the daemon's samples in
  // `bench/run.sh daemon --profile`.
  constexpr auto longest_pause = 1000ms;
  auto pause = 100ms;
  for (;;) {
    if (auto ended = daemon.wait(0ms))
      die("the daemon ended early (" + bench::describe_status(*ended) + ") waiting for " + metric);
    auto text = metrics_text(port);
    if (!text.empty()) {
      if (auto failed = bench::prometheus_value(text, "telluride_readings_total{outcome=\"failed\"}"); failed > 0)
        die(std::to_string(static_cast<long long>(failed)) + " readings failed in the daemon: the benchmark's readings are wrong");
      double value = bench::prometheus_value(text, metric);
      if (value >= target)
        return;
      if (on_sample && value > 0)
        on_sample(text);
      const auto now = clock_type::now();
      if (value > seen) {
        seen = value;
        last_progress = now;
      }
      if (!first && value > 0)
        first.emplace(now, value);
      const double elapsed = first ? std::chrono::duration<double>(now - first->first).count() : 0;
      if (elapsed > 0 && value > first->second) {
        const double remaining = (target - value) / ((value - first->second) / elapsed);
        pause = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::duration<double>(remaining / 3)),
                           std::chrono::milliseconds{5}, longest_pause);
      }
    }
    if (clock_type::now() - last_progress > stall_timeout)
      die("no progress for " + std::to_string(stall_timeout.count()) + " s waiting for " + metric + " (at " +
          std::to_string(static_cast<long long>(seen)) + " of " + std::to_string(static_cast<long long>(target)) + ")");
    std::this_thread::sleep_for(pause);
  }
}

void describe_metrics(daemon_result& out, const std::string& text, const std::string& work_dir, const std::string& tag) {
  std::ofstream{std::filesystem::path{work_dir} / ("metrics-" + tag + ".txt")} << text;
  auto frames = bench::prometheus_value(text, "telluride_amqp_ack_frames_total");
  auto acked = bench::prometheus_value(text, "telluride_amqp_acked_total");
  out.readings_per_ack_frame = frames > 0 ? acked / frames : 0;
  out.window_full = std::max(0.0, bench::prometheus_value(text, "telluride_amqp_window_full_total"));
  out.window_full_s = std::max(0.0, bench::prometheus_value(text, "telluride_amqp_window_full_seconds_total"));
  // telluride_stage_calls_total{node_type="processor",name="default",partition="0"} 123
  std::map<std::string, std::pair<double, double>> kinds;  // node_type → (calls, messages)
  std::istringstream lines(text);
  std::string line;
  const std::string node_type = "{node_type=\"";
  while (std::getline(lines, line)) {
    bool calls = line.starts_with("telluride_stage_calls_total{");
    bool messages = line.starts_with("telluride_stage_messages_total{");
    auto at = line.find(node_type);
    if ((!calls && !messages) || at == std::string::npos)
      continue;
    auto kind = line.substr(at + node_type.size(), line.find('"', at + node_type.size()) - at - node_type.size());
    double value = std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    (calls ? kinds[kind].first : kinds[kind].second) += value;
  }
  out.stage_batches.clear();
  for (const auto& [kind, counts] : kinds) {
    char text_value[64];
    std::snprintf(text_value, sizeof text_value, "%s%s %.1f", out.stage_batches.empty() ? "" : ", ", kind.c_str(),
                  counts.first > 0 ? counts.second / counts.first : 0.0);
    out.stage_batches += text_value;
  }
}

} // namespace daemon_bench
