// The stats record, /metrics and /api/topology, each read from one daemon_snapshot, without
// actors or a broker. The texts are pinned whole: dashboards and scripts read them.
#include "telluride/daemon/snapshot_views.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <string>
#include <vector>

using telluride::daemon_snapshot;
using telluride::make_stats_record;
using telluride::node_metric;
using telluride::prometheus_metrics;
using telluride::topology_json;

namespace {

daemon_snapshot sample_snapshot() {
  daemon_snapshot s;
  s.started_ms = 1'763'800'000'000;
  s.taken_ms = 1'763'800'005'000;
  s.config_version = 3;
  s.amqp_url = "amqp://guest:***@127.0.0.1:5672/%2f";
  s.http_listen = "127.0.0.1:9464";
  s.ready = {true, true, std::nullopt};
  s.totals.total_message_count = 1200;
  s.totals.total_successful_count = 1190;
  s.totals.total_failed_count = 10;
  s.duplicates = 7;
  s.readings.delivered = 1300;
  s.readings.acked = 1150;
  s.readings.rejected = 4;
  s.readings.requeued = 6;
  s.readings.dropped_acks = 40;
  s.readings.ack_frames = 25;
  s.readings.window_full = 9;
  s.readings.window_full_seconds = 0.375;
  s.connection.connects = 3;
  s.connection.losses = 2;
  s.published.published = 500;
  s.published.outstanding = 12;
  s.published.blocked = 1;
  s.sensors = 31;
  s.sensors_tracked = 31;
  s.sensors_max = 100;
  s.sensor_readings_refused = 5;
  s.alerts = 2;
  s.config_applied = 3;
  s.config_rejected = 4;
  s.handler_errors = 1;
  return s;
}

node_metric stage(causeway::stage_kind kind, std::string name, std::size_t partition, std::uint64_t calls,
                  std::uint64_t messages, double sma) {
  node_metric n;
  n.kind = kind;
  n.name = std::move(name);
  n.partition = partition;
  n.call_count = calls;
  n.msg_count = messages;
  n.sma_duration = sma;
  return n;
}

} // namespace

TEST_CASE("the stats record carries the snapshot's figures and what it derives") {
  auto s = sample_snapshot();
  auto r = make_stats_record(s, 240.5);
  CHECK(r.pid == ::getpid());
  CHECK(r.started_ms == 1'763'800'000'000);
  CHECK(r.updated_ms == 1'763'800'005'000);
  CHECK(r.config_version == 3);
  CHECK(r.consumed == 1200);
  CHECK(r.successful == 1190);
  CHECK(r.failed == 10);
  CHECK(r.duplicates == 7);
  CHECK(r.in_flight == 100);  // 1300 - (1150 + 4 + 6 + 40)
  CHECK(r.sensors == 31);
  CHECK(r.alerts == 2);
  CHECK(r.reconnects == 2);
  CHECK(r.messages_per_second == 240.5);
  CHECK(r.ready == 1);
  CHECK(std::string{r.amqp_url} == "amqp://guest:***@127.0.0.1:5672/%2f");
  CHECK(std::string{r.http_listen} == "127.0.0.1:9464");

  s.ready.connected = false;
  CHECK(make_stats_record(s, 0).ready == 0);
}

TEST_CASE("the stats record cuts a URL longer than its field and keeps it NUL-terminated") {
  auto s = sample_snapshot();
  s.amqp_url = "amqp://" + std::string(400, 'h');
  auto r = make_stats_record(s, 0);
  CHECK(std::string{r.amqp_url} == s.amqp_url.substr(0, sizeof r.amqp_url - 1));
}

TEST_CASE("/metrics shows every counter of the snapshot, in this order") {
  auto s = sample_snapshot();
  s.stages = {stage(causeway::stage_kind::processor, "default", 0, 10, 40, 2.5),
              stage(causeway::stage_kind::batch_processor, "sensor_batcher_one", 1, 3, 300, 120)};
  const std::string expected =
    "# HELP telluride_readings_total Readings finished since the daemon started, by outcome.\n"
    "# TYPE telluride_readings_total counter\n"
    "telluride_readings_total{outcome=\"successful\"} 1190\n"
    "telluride_readings_total{outcome=\"failed\"} 10\n"
    "# HELP telluride_readings_duplicate_total Redelivered readings recognised by message_id and not counted again.\n"
    "# TYPE telluride_readings_duplicate_total counter\n"
    "telluride_readings_duplicate_total 7\n"
    "# HELP telluride_amqp_consumed_total Deliveries taken from the readings queue.\n"
    "# TYPE telluride_amqp_consumed_total counter\n"
    "telluride_amqp_consumed_total 1300\n"
    "# HELP telluride_amqp_acked_total Readings acknowledged to the broker.\n"
    "# TYPE telluride_amqp_acked_total counter\n"
    "telluride_amqp_acked_total 1150\n"
    "# HELP telluride_amqp_rejected_total Readings rejected to the broker (requeued or not).\n"
    "# TYPE telluride_amqp_rejected_total counter\n"
    "telluride_amqp_rejected_total 10\n"
    "# HELP telluride_amqp_ack_frames_total basic.ack/nack/reject frames sent (coalesced).\n"
    "# TYPE telluride_amqp_ack_frames_total counter\n"
    "telluride_amqp_ack_frames_total 25\n"
    "# HELP telluride_amqp_dropped_acks_total Acknowledgements of a replaced channel: expected redeliveries.\n"
    "# TYPE telluride_amqp_dropped_acks_total counter\n"
    "telluride_amqp_dropped_acks_total 40\n"
    "# HELP telluride_amqp_window_full_total Times the prefetch window of a readings channel filled: the broker sends "
    "nothing until acknowledgements free a slot.\n"
    "# TYPE telluride_amqp_window_full_total counter\n"
    "telluride_amqp_window_full_total 9\n"
    "# HELP telluride_amqp_window_full_seconds_total How long the prefetch windows stayed full, in all.\n"
    "# TYPE telluride_amqp_window_full_seconds_total counter\n"
    "telluride_amqp_window_full_seconds_total 0.375\n"
    "# HELP telluride_in_flight Readings taken from the broker and not yet settled.\n"
    "# TYPE telluride_in_flight gauge\n"
    "telluride_in_flight 100\n"
    "# HELP telluride_amqp_connection_losses_total Consuming connection losses (each followed by a reconnect).\n"
    "# TYPE telluride_amqp_connection_losses_total counter\n"
    "telluride_amqp_connection_losses_total 2\n"
    "# HELP telluride_published_total Output messages published.\n"
    "# TYPE telluride_published_total counter\n"
    "telluride_published_total 500\n"
    "# HELP telluride_published_unconfirmed Output messages not yet confirmed by the broker.\n"
    "# TYPE telluride_published_unconfirmed gauge\n"
    "telluride_published_unconfirmed 12\n"
    "# HELP telluride_publisher_blocked_total connection.blocked notifications (broker alarms).\n"
    "# TYPE telluride_publisher_blocked_total counter\n"
    "telluride_publisher_blocked_total 1\n"
    "# HELP telluride_sensors Sensors with an aggregate.\n"
    "# TYPE telluride_sensors gauge\n"
    "telluride_sensors 31\n"
    "# HELP telluride_sensors_tracked Sensors tracked: places taken under telluride_sensors_max.\n"
    "# TYPE telluride_sensors_tracked gauge\n"
    "telluride_sensors_tracked 31\n"
    "# HELP telluride_sensors_max Sensors tracked at most (max_sensors, or sized from memory).\n"
    "# TYPE telluride_sensors_max gauge\n"
    "telluride_sensors_max 100\n"
    "# HELP telluride_sensor_readings_refused_total Readings dead-lettered because their sensor was new and "
    "telluride_sensors_max sensors were tracked.\n"
    "# TYPE telluride_sensor_readings_refused_total counter\n"
    "telluride_sensor_readings_refused_total 5\n"
    "# HELP telluride_alerts_total threshold_exceeded alerts raised.\n"
    "# TYPE telluride_alerts_total counter\n"
    "telluride_alerts_total 2\n"
    "# HELP telluride_config_version Applied reconfigurations since start.\n"
    "# TYPE telluride_config_version gauge\n"
    "telluride_config_version 3\n"
    "# HELP telluride_config_changes_total Reconfigurations handled since start, by outcome.\n"
    "# TYPE telluride_config_changes_total counter\n"
    "telluride_config_changes_total{outcome=\"applied\"} 3\n"
    "telluride_config_changes_total{outcome=\"rejected\"} 4\n"
    "# HELP telluride_handler_errors_total Exceptions caught in the daemon's own handlers (each settled its message).\n"
    "# TYPE telluride_handler_errors_total counter\n"
    "telluride_handler_errors_total 1\n"
    "# HELP telluride_ready 1 while readings and control are handled (see /readyz).\n"
    "# TYPE telluride_ready gauge\n"
    "telluride_ready 1\n"
    "# HELP telluride_stage_calls_total Calls per stage instance (processor vectors, batches...).\n"
    "# TYPE telluride_stage_calls_total counter\n"
    "telluride_stage_calls_total{node_type=\"processor\",name=\"default\",partition=\"0\"} 10\n"
    "telluride_stage_calls_total{node_type=\"batch_processor\",name=\"sensor_batcher_one\",partition=\"1\"} 3\n"
    "# HELP telluride_stage_messages_total Messages per stage instance.\n"
    "# TYPE telluride_stage_messages_total counter\n"
    "telluride_stage_messages_total{node_type=\"processor\",name=\"default\",partition=\"0\"} 40\n"
    "telluride_stage_messages_total{node_type=\"batch_processor\",name=\"sensor_batcher_one\",partition=\"1\"} 300\n"
    "# HELP telluride_stage_duration_microseconds Mean duration of a call over the last 60 calls.\n"
    "# TYPE telluride_stage_duration_microseconds gauge\n"
    "telluride_stage_duration_microseconds{node_type=\"processor\",name=\"default\",partition=\"0\"} 2.5\n"
    "telluride_stage_duration_microseconds{node_type=\"batch_processor\",name=\"sensor_batcher_one\",partition=\"1\"} 120\n"
    "# HELP telluride_stage_busy_seconds_total Time per stage instance spent in calls (rate() is its workload).\n"
    "# TYPE telluride_stage_busy_seconds_total counter\n"
    "telluride_stage_busy_seconds_total{node_type=\"processor\",name=\"default\",partition=\"0\"} 0.000000\n"
    "telluride_stage_busy_seconds_total{node_type=\"batch_processor\",name=\"sensor_batcher_one\",partition=\"1\"} 0.000000\n"
    "# HELP telluride_stage_workload Busy time over wall time per stage instance in the latest second, 0..1.\n"
    "# TYPE telluride_stage_workload gauge\n"
    "telluride_stage_workload{node_type=\"processor\",name=\"default\",partition=\"0\"} 0\n"
    "telluride_stage_workload{node_type=\"batch_processor\",name=\"sensor_batcher_one\",partition=\"1\"} 0\n"
    "# HELP telluride_stage_duration_seconds Duration of each call per stage instance.\n"
    "# TYPE telluride_stage_duration_seconds histogram\n";
  CHECK(prometheus_metrics(s).substr(0, expected.size()) == expected);
}

TEST_CASE("/metrics shows each stage's busy time, workload and duration histogram in seconds") {
  auto s = sample_snapshot();
  auto n = stage(causeway::stage_kind::processor, "default", 0, 4, 40, 2.5);
  n.busy_us = 1'234'567.0;
  n.workload = 0.25;
  for (double us : {8.0, 700.0, 700.0, 6'000'000.0})
    n.durations.add(us);
  s.stages = {n};
  auto text = prometheus_metrics(s);
  const std::string labels = "node_type=\"processor\",name=\"default\",partition=\"0\"";
  const std::string expected =
    "telluride_stage_busy_seconds_total{" + labels + "} 1.234567\n"
    "# HELP telluride_stage_workload Busy time over wall time per stage instance in the latest second, 0..1.\n"
    "# TYPE telluride_stage_workload gauge\n"
    "telluride_stage_workload{" + labels + "} 0.25\n"
    "# HELP telluride_stage_duration_seconds Duration of each call per stage instance.\n"
    "# TYPE telluride_stage_duration_seconds histogram\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.00001\"} 1\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.00005\"} 1\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.0001\"} 1\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.0005\"} 1\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.001\"} 3\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.005\"} 3\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.01\"} 3\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.05\"} 3\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.1\"} 3\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"0.5\"} 3\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"1\"} 3\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"5\"} 3\n"
    "telluride_stage_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 4\n"
    "telluride_stage_duration_seconds_sum{" + labels + "} 1.234567\n"
    "telluride_stage_duration_seconds_count{" + labels + "} 4\n";
  auto at = text.find("telluride_stage_busy_seconds_total{");
  REQUIRE(at != std::string::npos);
  CHECK(text.substr(at) == expected);
}

TEST_CASE("/metrics says not ready, and in flight 0, when the snapshot does") {
  auto s = sample_snapshot();
  s.ready.consuming = false;
  s.readings.acked = 1300;
  auto text = prometheus_metrics(s);
  CHECK(text.find("\ntelluride_ready 0\n") != std::string::npos);
  CHECK(text.find("\ntelluride_in_flight 0\n") != std::string::npos);
  CHECK(text.find("telluride_stage_calls_total{") == std::string::npos);  // no stages asked for
}

TEST_CASE("/metrics shows durable mode's checkpoint and restore figures, between the ready gauge and the stages") {
  auto s = sample_snapshot();
  CHECK(prometheus_metrics(s).find("telluride_checkpoint") == std::string::npos);  // memory mode: none
  s.checkpoints = telluride::checkpoint_figures{41, 2, 3, 38, 123456, 250, 35, 500, 77, 6, 123'000, 0, 1};
  auto text = prometheus_metrics(s);
  const std::string expected =
    "telluride_ready 1\n"
    "# HELP telluride_checkpoint_rounds_total Checkpoint rounds since start, by outcome.\n"
    "# TYPE telluride_checkpoint_rounds_total counter\n"
    "telluride_checkpoint_rounds_total{outcome=\"confirmed\"} 41\n"
    "telluride_checkpoint_rounds_total{outcome=\"failed\"} 2\n"
    "# HELP telluride_checkpoint_round_seconds_total Time confirmed checkpoint rounds took, from the seal to the "
    "release of their acknowledgements.\n"
    "# TYPE telluride_checkpoint_round_seconds_total counter\n"
    "telluride_checkpoint_round_seconds_total 0.123\n"
    "# HELP telluride_checkpoint_records_total Checkpoint records confirmed by the broker, by kind.\n"
    "# TYPE telluride_checkpoint_records_total counter\n"
    "telluride_checkpoint_records_total{kind=\"snapshot\"} 3\n"
    "telluride_checkpoint_records_total{kind=\"delta\"} 38\n"
    "# HELP telluride_checkpoint_bytes_total Bytes of the checkpoint records confirmed by the broker.\n"
    "# TYPE telluride_checkpoint_bytes_total counter\n"
    "telluride_checkpoint_bytes_total 123456\n"
    "# HELP telluride_checkpoint_held Acknowledgements waiting for a checkpoint to be confirmed.\n"
    "# TYPE telluride_checkpoint_held gauge\n"
    "telluride_checkpoint_held 250\n"
    "# HELP telluride_checkpoint_chain_breaks_total Own checkpoint records found missing from the stream before a "
    "later one (confirmed, then lost); each heals with a snapshot of its shard in the next round.\n"
    "# TYPE telluride_checkpoint_chain_breaks_total counter\n"
    "telluride_checkpoint_chain_breaks_total 1\n"
    "# HELP telluride_restore_milliseconds How long the restore of the state at start took.\n"
    "# TYPE telluride_restore_milliseconds gauge\n"
    "telluride_restore_milliseconds 35\n"
    "# HELP telluride_restored_sensors Sensors the restore at start brought back.\n"
    "# TYPE telluride_restored_sensors gauge\n"
    "telluride_restored_sensors 500\n"
    "# HELP telluride_restore_records Records of the state stream the restore at start read.\n"
    "# TYPE telluride_restore_records gauge\n"
    "telluride_restore_records 77\n"
    "# HELP telluride_owner_epoch The owner epoch this process claimed its shard with.\n"
    "# TYPE telluride_owner_epoch gauge\n"
    "telluride_owner_epoch 6\n"
    "# HELP telluride_stage_calls_total";
  CHECK(text.find(expected) != std::string::npos);
}

TEST_CASE("/api/topology lists the stages with the snapshot's version and consuming flag") {
  auto s = sample_snapshot();
  causeway::stage_info producer{causeway::stage_kind::producer, "default", 0, 500, 20, 80, {}};
  causeway::stage_info batcher{causeway::stage_kind::batcher, "sensor_batcher_two", 1, 200, 50, 0, {}};
  auto body = topology_json(s, {producer, batcher});
  CHECK(body.dump() ==
        R"({"config_version":3,"consuming":true,"stages":[)"
        R"({"in_flight":20,"name":"default","node_type":"producer","outstanding_demand":80,"partition":0,"received":500},)"
        R"({"in_flight":50,"name":"sensor_batcher_two","node_type":"batcher","outstanding_demand":0,"partition":1,"received":200}]})");

  s.ready.consuming = false;
  CHECK(topology_json(s, {}).dump() == R"({"config_version":3,"consuming":false,"stages":[]})");
}
