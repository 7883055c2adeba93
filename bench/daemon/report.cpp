#include "daemon/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

namespace daemon_bench {

namespace {

// Targets of the issues.
constexpr double target_ratio = 0.9;
constexpr double target_durable_rate = 0.85;  // durable / memory drain rate, at least
constexpr double target_durable_cpu = 1.2;    // durable / memory CPU per reading, at most
constexpr double target_cpu_s_per_million = 3.5;
constexpr double target_rss_mib_large = 64;
constexpr double target_reconfigure_ms = 100;

// --- the report ------------------------------------------------------------------------------------

void print_threads(const settings& s, const daemon_result& r) {
  double listed = 0;
  std::printf("daemon threads at %zu sensors, in creation order: CPU-s per million readings (user/system share), "
              "blocking waits and preemptions per 1000 readings\n",
              r.sensors);
  auto labels = labelled_threads(r);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& t = r.threads[i];
    listed += t.cpu_s;
    double ticks = t.user_s + t.system_s;
    std::printf("  %-18s %6.3f  (%3.0f%% / %3.0f%%)  waits %7.1f  preempted %6.1f\n", labels[i].first.c_str(),
                cpu_per_million(t.cpu_s, s.messages), ticks > 0 ? 100 * t.user_s / ticks : 0.0,
                ticks > 0 ? 100 * t.system_s / ticks : 0.0, per_1000(t.voluntary_switches, s.messages),
                per_1000(t.involuntary_switches, s.messages));
  }
  std::printf("  %-18s %6.3f\n", "(ended threads)", cpu_per_million(std::max(0.0, r.cpu_s - listed), s.messages));
  std::printf("  %.0f readings per ack frame; readings per call: %s; in flight while draining: mean %.0f, median %.0f\n",
              r.readings_per_ack_frame, r.stage_batches.c_str(), r.mean_in_flight, r.median_in_flight);
}

nlohmann::json threads_json(const settings& s, const daemon_result& r) {
  auto out = nlohmann::json::object();
  for (const auto& [label, cpu] : labelled_threads(r))
    out[label] = std::round(cpu_per_million(cpu, s.messages) * 1000) / 1000;
  return out;
}

/// The median drain rate and CPU seconds of a side's rounds.
std::pair<double, double> medians_of(const std::vector<daemon_result>& rounds) {
  std::vector<double> rates, cpus;
  for (const auto& d : rounds) {
    rates.push_back(d.msgs_per_s);
    cpus.push_back(d.cpu_s);
  }
  return {bench::median(std::move(rates)), bench::median(std::move(cpus))};
}

/// Durable mode against memory mode, at one number of sensors: the best round of each side
/// (the targets), and the medians of the rounds beside them. On a host whose runs are fast or
/// slow from one to the next, one fast round decides a best-of; the medians show whether it
/// is typical. Printed, and as JSON.
nlohmann::json compare_modes(const settings& s, const std::vector<daemon_result>& durable_rounds,
                             const std::vector<daemon_result>& memory_rounds) {
  const auto& durable = best_of(durable_rounds);
  const auto& memory = best_of(memory_rounds);
  const double rate = durable.msgs_per_s / memory.msgs_per_s;
  const double cpu = durable.cpu_s / memory.cpu_s;
  const double bytes_per_s = durable.checkpoint_bytes / durable.wall_s;
  std::printf("durable vs memory   %zu sensors: %.0f vs %.0f msgs/s = %.3f (target >= %.2f %s); CPU-s/M %.2f vs %.2f = "
              "%.3f (target <= %.1f %s); checkpoints %.0f rounds, %.2f MB/s (%.0f bytes per reading); restore %.0f ms "
              "(ready %.0f ms after spawn)\n",
              durable.sensors, durable.msgs_per_s, memory.msgs_per_s, rate, target_durable_rate,
              rate >= target_durable_rate ? "met" : "MISSED", cpu_per_million(durable.cpu_s, s.messages),
              cpu_per_million(memory.cpu_s, s.messages), cpu, target_durable_cpu,
              cpu <= target_durable_cpu ? "met" : "MISSED", durable.checkpoint_rounds, bytes_per_s / 1e6,
              durable.checkpoint_bytes / static_cast<double>(s.messages), durable.restore_ms, durable.restart_ready_ms);
  const auto [durable_rate, durable_cpu] = medians_of(durable_rounds);
  const auto [memory_rate, memory_cpu] = medians_of(memory_rounds);
  std::printf("                    medians of %zu and %zu rounds: %.0f vs %.0f msgs/s = %.3f; CPU-s/M %.2f vs %.2f = %.3f\n",
              durable_rounds.size(), memory_rounds.size(), durable_rate, memory_rate, durable_rate / memory_rate,
              cpu_per_million(durable_cpu, s.messages), cpu_per_million(memory_cpu, s.messages),
              durable_cpu / memory_cpu);
  return {{"sensors", durable.sensors},
          {"durable_msgs_per_s", round_to(durable.msgs_per_s, 0)},
          {"memory_msgs_per_s", round_to(memory.msgs_per_s, 0)},
          {"rate_ratio", round_to(rate, 3)},
          {"durable_cpu_s_per_million", round_to(cpu_per_million(durable.cpu_s, s.messages), 3)},
          {"memory_cpu_s_per_million", round_to(cpu_per_million(memory.cpu_s, s.messages), 3)},
          {"cpu_ratio", round_to(cpu, 3)},
          {"durable_broker_cpu_s_per_100k", round_to(per_100k(durable.broker_cpu_s, s.messages), 3)},
          {"memory_broker_cpu_s_per_100k", round_to(per_100k(memory.broker_cpu_s, s.messages), 3)},
          {"checkpoint_rounds", durable.checkpoint_rounds},
          {"checkpoint_bytes_per_s", round_to(bytes_per_s, 0)},
          {"checkpoint_bytes_per_reading", round_to(durable.checkpoint_bytes / static_cast<double>(s.messages), 1)},
          {"restore_ms", durable.restore_ms},
          {"restart_ready_ms", round_to(durable.restart_ready_ms, 0)},
          {"durable_peak_rss_mib", round_to(durable.peak_rss_mib, 1)},
          {"memory_peak_rss_mib", round_to(memory.peak_rss_mib, 1)},
          // Beside the durable run's threads (threads_cpu_s_per_million, _10k): where durable
          // mode costs more than the checkpoint threads themselves.
          {"memory_threads_cpu_s_per_million", threads_json(s, memory)},
          {"median_rate_ratio", round_to(durable_rate / memory_rate, 3)},
          {"median_cpu_ratio", round_to(durable_cpu / memory_cpu, 3)},
          {"targets_met", {{"rate_ratio", rate >= target_durable_rate}, {"cpu_ratio", cpu <= target_durable_cpu}}}};
}

} // namespace

// The names the daemon's threads have are ambiguous, so
/// known ones are translated: CAF 0.17 names its scheduler workers "caf.multiplexer" (their
/// stacks show worker<work_stealing>::run), "caf.actor" is a detached actor's thread, the
/// HTTP server's thread keeps the program's name. AMQP connection threads are named after
/// their connection ("amqp-consumer", "amqp-publisher", "amqp-checkpoint"...) and shown as
/// they are, like unknown names.
std::vector<std::pair<std::string, double>> labelled_threads(const daemon_result& r) {
  return labelled_threads(r.threads, r.pid);
}

std::vector<std::pair<std::string, double>> labelled_threads(const std::vector<bench::thread_cpu>& threads, long pid) {
  auto labels = thread_labels(threads, pid);
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t i = 0; i < threads.size(); ++i)
    out.emplace_back(std::move(labels[i]), threads[i].cpu_s);
  return out;
}

std::vector<std::string> thread_labels(const std::vector<bench::thread_cpu>& threads, long pid) {
  std::map<std::string, int> count, seen;
  for (const auto& t : threads)
    if (t.tid != pid)
      ++count[t.name];
  std::vector<std::string> out;
  for (const auto& t : threads) {
    std::string label;
    int k = t.tid == pid ? 0 : seen[t.name]++;
    if (t.tid == pid)
      label = "main";
    else if (t.name == "caf.multiplexer")
      label = "caf_worker#" + std::to_string(k);
    else if (t.name == "caf.clock" && count[t.name] == 1)
      label = "caf_clock";
    else if (t.name == "caf.actor" && count[t.name] == 1)
      label = "caf_detached";
    else if (t.name == "telluride" && count[t.name] == 1)
      label = "http";
    else
      label = count[t.name] > 1 ? t.name + "#" + std::to_string(k) : t.name;
    out.push_back(std::move(label));
  }
  return out;
}

const daemon_result& best_of(const std::vector<daemon_result>& rounds) {
  return *std::max_element(rounds.begin(), rounds.end(),
                           [](const auto& a, const auto& b) { return a.msgs_per_s < b.msgs_per_s; });
}

const bench::drain_result& best_of(const std::vector<bench::drain_result>& baselines) {
  return *std::max_element(baselines.begin(), baselines.end(),
                           [](const auto& a, const auto& b) { return a.msgs_per_s < b.msgs_per_s; });
}

nlohmann::json report(const settings& s, const results& r) {
  const auto& durable = r.durable;
  const auto& memory = r.memory;
  const auto& best_daemon = best_of(durable.rounds);
  const auto& large = best_of(durable.large);
  const auto& best_baseline = best_of(r.baselines);
  const double ratio = best_daemon.msgs_per_s / best_baseline.msgs_per_s;
  const double cpu_m = cpu_per_million(best_daemon.cpu_s, s.messages);
  const double cpu_m_large = cpu_per_million(large.cpu_s, s.messages);
  const double reconfigure_ms = std::max(best_daemon.reconfigure_ms, large.reconfigure_ms);

  std::printf("readings            %zu per drain, persistent, %zu and %zu sensors; best of %d rounds at each; "
              "the daemon in durable mode (the default) unless it says memory\n",
              s.messages, s.sensors, s.sensors_large, s.rounds);
  if (!s.daemon_overrides.empty())
    std::printf("daemon config       default, except %s\n", s.daemon_overrides.dump().c_str());
  std::printf("rabbitmq-c consumer %8.0f msgs/s  client %.2f CPU-s/M  broker %.2f CPU-s/100k\n",
              best_baseline.msgs_per_s, cpu_per_million(best_baseline.client_cpu_s, s.messages),
              per_100k(best_baseline.broker_cpu_s, s.messages));
  for (const auto* d : {&best_daemon, &large})
    std::printf("daemon %6zu sensors %8.0f msgs/s  (%.0f by wall time)  %.2f CPU-s/M  peak RSS %.1f MiB  broker %.2f "
                "CPU-s/100k  reconfigure %.1f ms (drain %.0f ms)\n",
                d->sensors, d->msgs_per_s, static_cast<double>(s.messages) / d->wall_s,
                cpu_per_million(d->cpu_s, s.messages), d->peak_rss_mib, per_100k(d->broker_cpu_s, s.messages), d->reconfigure_ms,
                d->drain_ms);
  // Broker and consumer share two cores with everything else on the machine: when they are
  // saturated, the rates are in the inverse ratio of broker + consumer CPU per reading.
  const double baseline_us = (best_baseline.broker_cpu_s + best_baseline.client_cpu_s) * 1e6 / static_cast<double>(s.messages);
  const double daemon_us = (best_daemon.broker_cpu_s + best_daemon.cpu_s) * 1e6 / static_cast<double>(s.messages);
  const double cpu_bound_ratio = baseline_us / daemon_us;
  std::printf("CPU per reading     rabbitmq-c: broker %.1f + client %.1f = %.1f us; daemon: broker %.1f + daemon %.1f = "
              "%.1f us; on saturated cores that predicts ratio %.3f\n",
              best_baseline.broker_cpu_s * 1e6 / static_cast<double>(s.messages),
              best_baseline.client_cpu_s * 1e6 / static_cast<double>(s.messages), baseline_us,
              best_daemon.broker_cpu_s * 1e6 / static_cast<double>(s.messages), cpu_m, daemon_us, cpu_bound_ratio);
  std::printf("ratio               %.3f (target >= %.2f)\n", ratio, target_ratio);
  // P1's CPU target is for the default run (1,000 sensors); the 10,000-sensor run is held to
  // the same figure for information only (it publishes ten times the aggregates). It is an
  // absolute figure, set on a VM whose bare consumer took ~2.4 CPU-s/M: on a VM whose system
  // calls cost more it says less than the ratios (the busy-host lines below, P2.4).
  std::printf("P1 targets          ratio %s, CPU-s/M %s (<= %.1f, absolute; at %zu sensors %s), RSS at %zu sensors %s "
              "(<= %.0f MiB), reconfigure %s (<= %.0f ms)\n",
              ratio >= target_ratio ? "met" : "MISSED",
              cpu_m <= target_cpu_s_per_million ? "met" : "MISSED", target_cpu_s_per_million, s.sensors_large,
              cpu_m_large <= target_cpu_s_per_million ? "within it too" : "above it",
              s.sensors_large, large.peak_rss_mib <= target_rss_mib_large ? "met" : "MISSED", target_rss_mib_large,
              reconfigure_ms <= target_reconfigure_ms ? "met" : "MISSED", target_reconfigure_ms);
  print_threads(s, best_daemon);
  print_threads(s, large);
  auto modes = nlohmann::json::array({compare_modes(s, durable.rounds, memory.rounds),
                                      compare_modes(s, durable.large, memory.large)});

  nlohmann::json report{
    {"name", "daemon"},
    {"msgs_per_s", round_to(best_daemon.msgs_per_s, 0)},
    {"peak_rss_mib", round_to(best_daemon.peak_rss_mib, 1)},
    {"ratio", round_to(ratio, 3)},
    {"baseline_msgs_per_s", round_to(best_baseline.msgs_per_s, 0)},
    {"cpu_s_per_million", round_to(cpu_m, 3)},
    {"msgs_per_s_10k", round_to(large.msgs_per_s, 0)},
    {"cpu_s_per_million_10k", round_to(cpu_m_large, 3)},
    {"peak_rss_mib_10k", round_to(large.peak_rss_mib, 1)},
    {"reconfigure_ms", round_to(best_daemon.reconfigure_ms, 1)},
    {"drain_ms", best_daemon.drain_ms},
    {"reconfigure_ms_10k", round_to(large.reconfigure_ms, 1)},
    {"drain_ms_10k", large.drain_ms},
    {"wall_s", round_to(best_daemon.wall_s, 3)},
    {"wall_s_10k", round_to(large.wall_s, 3)},
    {"wall_msgs_per_s", round_to(static_cast<double>(s.messages) / best_daemon.wall_s, 0)},
    {"wall_msgs_per_s_10k", round_to(static_cast<double>(s.messages) / large.wall_s, 0)},
    {"startup_cpu_s", round_to(best_daemon.startup_cpu_s, 3)},
    {"shutdown_ms", round_to(best_daemon.shutdown_ms, 0)},
    {"broker_cpu_s_per_100k", round_to(per_100k(best_daemon.broker_cpu_s, s.messages), 3)},
    {"broker_cpu_s_per_100k_10k", round_to(per_100k(large.broker_cpu_s, s.messages), 3)},
    {"baseline_broker_cpu_s_per_100k", round_to(per_100k(best_baseline.broker_cpu_s, s.messages), 3)},
    {"baseline_client_cpu_s_per_million", round_to(cpu_per_million(best_baseline.client_cpu_s, s.messages), 3)},
    {"cpu_bound_ratio", round_to(cpu_bound_ratio, 3)},
    {"readings_per_ack_frame", round_to(best_daemon.readings_per_ack_frame, 1)},
    {"mean_in_flight", round_to(best_daemon.mean_in_flight, 0)},
    {"mean_in_flight_10k", round_to(large.mean_in_flight, 0)},
    {"window_full_share", round_to(window_full_share(best_daemon, s.messages), 3)},
    {"window_full_share_10k", round_to(window_full_share(large, s.messages), 3)},
    {"threads_cpu_s_per_million", threads_json(s, best_daemon)},
    {"threads_cpu_s_per_million_10k", threads_json(s, large)},
    {"targets_met",
     {{"ratio", ratio >= target_ratio},
      {"cpu_s_per_million", cpu_m <= target_cpu_s_per_million},
      {"cpu_s_per_million_10k", cpu_m_large <= target_cpu_s_per_million},
      {"peak_rss_mib_10k", large.peak_rss_mib <= target_rss_mib_large},
      {"reconfigure_ms", reconfigure_ms <= target_reconfigure_ms}}},
    {"messages", s.messages},
    {"sensors", s.sensors},
    {"sensors_10k", s.sensors_large},
    {"rounds", s.rounds},
    {"queues_collected", were_queues_collected(s)},
  };
  // The drain-rate ratio at --sensors; the whole comparisons under "modes".
  report["durable_vs_memory"] = modes[0]["rate_ratio"];
  report["modes"] = std::move(modes);
  if (!s.daemon_overrides.empty())
    report["daemon_overrides"] = s.daemon_overrides;
  report_busy_host(s, r, report);
  return report;
}

} // namespace daemon_bench
