// daemon_metrics.hpp — what the daemon benchmark reads from a running daemon's GET /metrics.
#pragma once

#include "daemon/run.hpp"
#include "support/child_process.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace daemon_bench {

// No progress for this long is a failure; slowness never is.
inline constexpr std::chrono::seconds stall_timeout{120};

/// The daemon's /metrics text, or "" when it did not answer 200.
std::string metrics_text(std::uint16_t port);

/// Polls GET /readyz every 5 ms until it answers 200; dies when the daemon ends or after
/// stall_timeout. `which` names the daemon in those errors ("the restarted daemon").
void wait_until_ready(bench::child_process& daemon, std::uint16_t port, const std::string& which);

/// Polls /metrics until `metric` reaches `target`; dies when the daemon ends or nothing
/// moves for stall_timeout. Each poll costs the daemon CPU (~0.3 ms for /metrics), which the
/// no-op consumer does not pay, so it polls every 200 ms, and near the end every third of the
/// time the rate so far says is left (at least 5 ms apart): the moment of completion is seen
/// within a few ms, from ~70 polls for a 12 s drain (polling every 100 ms, then every 10 ms
/// over the last tenth, took ~230, 5 % of the daemon's CPU in its HTTP thread).
/// `on_sample` sees every /metrics text read (for gauges sampled along the way).
void wait_for_metric(bench::child_process& daemon, std::uint16_t port, const std::string& metric, double target,
                     const std::function<void(const std::string&)>& on_sample = {});

/// Ack coalescing and the stages' messages per call, from a /metrics text; the text is kept
/// in the work dir (metrics-TAG.txt) for a closer look.
void describe_metrics(daemon_result& out, const std::string& text, const std::string& work_dir, const std::string& tag);

} // namespace daemon_bench
