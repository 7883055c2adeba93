#include "telluride/daemon/snapshot_views.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace telluride {

namespace {

template <std::size_t N>
void copy_text(char (&to)[N], const std::string& from) {
  auto n = std::min(from.size(), N - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

std::string stage_labels(const node_metric& n) {
  return "{node_type=\"" + std::string{causeway::to_string(n.kind)} + "\",name=\"" + n.name + "\",partition=\"" +
         std::to_string(n.partition) + "\"}";
}

/// Microseconds as seconds with six decimals: the resolution of the durations, without the
/// exponent a stream would write for small values.
std::string seconds_text(double us) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", us / 1e6);
  return text;
}

/// `le` of each finite bucket of duration_histogram, in seconds.
constexpr std::array<const char*, duration_histogram::upper_bounds_us.size()> bucket_bounds{
  "0.00001", "0.00005", "0.0001", "0.0005", "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5"};

// The histogram's series of one instance: cumulative buckets with `le` in seconds, sum, count.
void append_duration_histogram(std::ostringstream& out, const node_metric& n) {
  std::string labels = stage_labels(n);
  labels.pop_back();  // the closing brace: `le` joins the instance's labels
  for (std::size_t i = 0; i < duration_histogram::bucket_count; ++i)
    out << "telluride_stage_duration_seconds_bucket" << labels << ",le=\""
        << (i < bucket_bounds.size() ? bucket_bounds[i] : "+Inf") << "\"} " << n.durations.cumulative(i) << '\n';
  out << "telluride_stage_duration_seconds_sum" << labels << "} " << seconds_text(n.busy_us) << '\n';
  out << "telluride_stage_duration_seconds_count" << labels << "} " << n.durations.total() << '\n';
}

} // namespace

shared_stats_record make_stats_record(const daemon_snapshot& s, double messages_per_second) {
  shared_stats_record r;
  r.pid = static_cast<std::int32_t>(::getpid());
  r.started_ms = s.started_ms;
  r.updated_ms = s.taken_ms;
  r.config_version = s.config_version;
  r.consumed = s.totals.total_message_count;
  r.successful = s.totals.total_successful_count;
  r.failed = s.totals.total_failed_count;
  r.duplicates = s.duplicates;
  r.in_flight = s.in_flight();
  r.sensors = s.sensors;
  r.alerts = s.alerts;
  r.reconnects = s.reconnects();
  r.messages_per_second = messages_per_second;
  r.ready = s.ready.is_ready() ? 1 : 0;
  copy_text(r.amqp_url, s.amqp_url);
  copy_text(r.http_listen, s.http_listen);
  return r;
}

std::string prometheus_metrics(const daemon_snapshot& s) {
  std::ostringstream out;
  auto metric = [&out](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  metric("telluride_readings_total", "counter", "Readings finished since the daemon started, by outcome.");
  out << "telluride_readings_total{outcome=\"successful\"} " << s.totals.total_successful_count << '\n';
  out << "telluride_readings_total{outcome=\"failed\"} " << s.totals.total_failed_count << '\n';
  metric("telluride_readings_duplicate_total", "counter", "Redelivered readings recognised by message_id and not counted again.");
  out << "telluride_readings_duplicate_total " << s.duplicates << '\n';

  metric("telluride_amqp_consumed_total", "counter", "Deliveries taken from the readings queue.");
  out << "telluride_amqp_consumed_total " << s.readings.delivered << '\n';
  metric("telluride_amqp_acked_total", "counter", "Readings acknowledged to the broker.");
  out << "telluride_amqp_acked_total " << s.readings.acked << '\n';
  metric("telluride_amqp_rejected_total", "counter", "Readings rejected to the broker (requeued or not).");
  out << "telluride_amqp_rejected_total " << s.readings.rejected + s.readings.requeued << '\n';
  metric("telluride_amqp_ack_frames_total", "counter", "basic.ack/nack/reject frames sent (coalesced).");
  out << "telluride_amqp_ack_frames_total " << s.readings.ack_frames << '\n';
  metric("telluride_amqp_dropped_acks_total", "counter", "Acknowledgements of a replaced channel: expected redeliveries.");
  out << "telluride_amqp_dropped_acks_total " << s.readings.dropped_acks << '\n';
  metric("telluride_amqp_window_full_total", "counter",
         "Times the prefetch window of a readings channel filled: the broker sends nothing until acknowledgements free a slot.");
  out << "telluride_amqp_window_full_total " << s.readings.window_full << '\n';
  metric("telluride_amqp_window_full_seconds_total", "counter", "How long the prefetch windows stayed full, in all.");
  out << "telluride_amqp_window_full_seconds_total " << s.readings.window_full_seconds << '\n';
  metric("telluride_in_flight", "gauge", "Readings taken from the broker and not yet settled.");
  out << "telluride_in_flight " << s.in_flight() << '\n';
  metric("telluride_amqp_connection_losses_total", "counter", "Consuming connection losses (each followed by a reconnect).");
  out << "telluride_amqp_connection_losses_total " << s.connection.losses << '\n';

  metric("telluride_published_total", "counter", "Output messages published.");
  out << "telluride_published_total " << s.published.published << '\n';
  metric("telluride_published_unconfirmed", "gauge", "Output messages not yet confirmed by the broker.");
  out << "telluride_published_unconfirmed " << s.published.outstanding << '\n';
  metric("telluride_publisher_blocked_total", "counter", "connection.blocked notifications (broker alarms).");
  out << "telluride_publisher_blocked_total " << s.published.blocked << '\n';

  metric("telluride_sensors", "gauge", "Sensors with an aggregate.");
  out << "telluride_sensors " << s.sensors << '\n';
  metric("telluride_sensors_tracked", "gauge", "Sensors tracked: places taken under telluride_sensors_max.");
  out << "telluride_sensors_tracked " << s.sensors_tracked << '\n';
  metric("telluride_sensors_max", "gauge", "Sensors tracked at most (max_sensors, or sized from memory).");
  out << "telluride_sensors_max " << s.sensors_max << '\n';
  metric("telluride_sensor_readings_refused_total", "counter",
         "Readings dead-lettered because their sensor was new and telluride_sensors_max sensors were tracked.");
  out << "telluride_sensor_readings_refused_total " << s.sensor_readings_refused << '\n';
  metric("telluride_alerts_total", "counter", "threshold_exceeded alerts raised.");
  out << "telluride_alerts_total " << s.alerts << '\n';
  metric("telluride_config_version", "gauge", "Applied reconfigurations since start.");
  out << "telluride_config_version " << s.config_version << '\n';
  metric("telluride_config_changes_total", "counter", "Reconfigurations handled since start, by outcome.");
  out << "telluride_config_changes_total{outcome=\"applied\"} " << s.config_applied << '\n';
  out << "telluride_config_changes_total{outcome=\"rejected\"} " << s.config_rejected << '\n';
  metric("telluride_handler_errors_total", "counter", "Exceptions caught in the daemon's own handlers (each settled its message).");
  out << "telluride_handler_errors_total " << s.handler_errors << '\n';
  metric("telluride_ready", "gauge", "1 while readings and control are handled (see /readyz).");
  out << "telluride_ready " << (s.ready.is_ready() ? 1 : 0) << '\n';

  if (s.checkpoints) {
    const checkpoint_figures& c = *s.checkpoints;
    metric("telluride_checkpoint_rounds_total", "counter", "Checkpoint rounds since start, by outcome.");
    out << "telluride_checkpoint_rounds_total{outcome=\"confirmed\"} " << c.rounds << '\n';
    out << "telluride_checkpoint_rounds_total{outcome=\"failed\"} " << c.failed_rounds << '\n';
    metric("telluride_checkpoint_round_seconds_total", "counter",
           "Time confirmed checkpoint rounds took, from the seal to the release of their acknowledgements.");
    out << "telluride_checkpoint_round_seconds_total " << static_cast<double>(c.round_us) / 1e6 << '\n';
    metric("telluride_checkpoint_records_total", "counter", "Checkpoint records confirmed by the broker, by kind.");
    out << "telluride_checkpoint_records_total{kind=\"snapshot\"} " << c.snapshots << '\n';
    out << "telluride_checkpoint_records_total{kind=\"delta\"} " << c.deltas << '\n';
    metric("telluride_checkpoint_bytes_total", "counter", "Bytes of the checkpoint records confirmed by the broker.");
    out << "telluride_checkpoint_bytes_total " << c.bytes << '\n';
    metric("telluride_checkpoint_held", "gauge", "Acknowledgements waiting for a checkpoint to be confirmed.");
    out << "telluride_checkpoint_held " << c.held << '\n';
    metric("telluride_checkpoint_chain_breaks_total", "counter",
           "Own checkpoint records found missing from the stream before a later one (confirmed, then lost); "
           "each heals with a snapshot of its shard in the next round.");
    out << "telluride_checkpoint_chain_breaks_total " << c.chain_breaks << '\n';
    metric("telluride_restore_milliseconds", "gauge", "How long the restore of the state at start took.");
    out << "telluride_restore_milliseconds " << c.restore_ms << '\n';
    metric("telluride_restored_sensors", "gauge", "Sensors the restore at start brought back.");
    out << "telluride_restored_sensors " << c.restored_sensors << '\n';
    metric("telluride_restore_records", "gauge", "Records of the state stream the restore at start read.");
    out << "telluride_restore_records " << c.restore_records << '\n';
    metric("telluride_owner_epoch", "gauge", "The owner epoch this process claimed its shard with.");
    out << "telluride_owner_epoch " << c.epoch << '\n';
  }

  metric("telluride_stage_calls_total", "counter", "Calls per stage instance (processor vectors, batches...).");
  for (const auto& n : s.stages)
    out << "telluride_stage_calls_total" << stage_labels(n) << ' ' << n.call_count << '\n';
  metric("telluride_stage_messages_total", "counter", "Messages per stage instance.");
  for (const auto& n : s.stages)
    out << "telluride_stage_messages_total" << stage_labels(n) << ' ' << n.msg_count << '\n';
  metric("telluride_stage_duration_microseconds", "gauge", "Mean duration of a call over the last 60 calls.");
  for (const auto& n : s.stages)
    out << "telluride_stage_duration_microseconds" << stage_labels(n) << ' ' << n.sma_duration << '\n';
  metric("telluride_stage_busy_seconds_total", "counter",
         "Time per stage instance spent in calls (rate() is its workload).");
  for (const auto& n : s.stages)
    out << "telluride_stage_busy_seconds_total" << stage_labels(n) << ' ' << seconds_text(n.busy_us) << '\n';
  metric("telluride_stage_workload", "gauge",
         "Busy time over wall time per stage instance in the latest second, 0..1.");
  for (const auto& n : s.stages)
    out << "telluride_stage_workload" << stage_labels(n) << ' ' << n.workload << '\n';
  metric("telluride_stage_duration_seconds", "histogram", "Duration of each call per stage instance.");
  for (const auto& n : s.stages)
    append_duration_histogram(out, n);
  return out.str();
}

nlohmann::json topology_json(const daemon_snapshot& snapshot, const std::vector<causeway::stage_info>& stages) {
  auto list = nlohmann::json::array();
  for (const auto& s : stages)
    list.push_back({{"node_type", std::string{causeway::to_string(s.kind)}},
                    {"name", s.name},
                    {"partition", s.index},
                    {"received", s.received},
                    {"in_flight", s.in_flight},
                    {"outstanding_demand", s.outstanding_demand}});
  return {{"config_version", snapshot.config_version}, {"consuming", snapshot.ready.consuming}, {"stages", list}};
}

} // namespace telluride
