#include "telluride/daemon/daemon_probe.hpp"

#include "telluride/domain/config_schema.hpp"

namespace telluride {

readiness daemon_probe::check_readiness() const {
  readiness r;
  r.consuming = sources_.readings->is_consuming();
  auto source = sources_.readings->current();
  r.connected = source && source->connection()->is_connected();
  r.part_problem = sources_.parts->first_problem();
  return r;
}

void add_life_counters(daemon_snapshot& to, const daemon_snapshot& from) noexcept {
  to.connection.connects += from.connection.connects;
  to.connection.losses += from.connection.losses;
  to.connection.channel_losses += from.connection.channel_losses;
  to.connection.blocked += from.connection.blocked;
  to.readings += from.readings;
  to.published.published += from.published.published;
  to.published.confirmed += from.published.confirmed;
  to.published.nacked += from.published.nacked;
  to.published.republished += from.published.republished;
  to.published.blocked += from.published.blocked;
  to.config_applied += from.config_applied;
  to.config_rejected += from.config_rejected;
  to.handler_errors += from.handler_errors;
}

daemon_snapshot daemon_probe::take(std::int64_t now_ms, snapshot_detail detail) const {
  daemon_snapshot s;
  s.started_ms = sources_.started_ms;
  s.taken_ms = now_ms;
  if (detail == snapshot_detail::totals) {
    s.totals = sources_.totals->peek();
    return s;
  }
  auto [cfg, version] = sources_.config->current();
  s.config_version = version;
  s.amqp_url = mask_password(cfg.amqp_url);
  s.http_listen = to_string(cfg.http_listen);
  s.ready = check_readiness();
  s.totals = sources_.totals->peek();
  s.duplicates = sources_.totals->duplicates();
  auto source = sources_.readings->current();
  s.readings = sources_.readings->stats();
  s.connection = source->connection()->stats();
  s.published = sources_.out->publisher().stats();
  s.sensors = sources_.tracker->size();
  s.sensors_tracked = sources_.tracker->tracked();
  s.sensors_max = sources_.tracker->max_sensors();
  s.sensor_readings_refused = sources_.tracker->refused();
  s.alerts = sources_.tracker->alerts_raised();
  s.config_applied = sources_.counters->config_applied.load();
  s.config_rejected = sources_.counters->config_rejected.load();
  s.handler_errors = sources_.counters->handler_errors.load();
  if (sources_.durable) {
    const durable_figures f = sources_.durable->figures();
    s.checkpoints = checkpoint_figures{f.checkpoints.rounds,    f.checkpoints.failed_rounds,
                                       f.checkpoints.snapshots, f.checkpoints.deltas,
                                       f.checkpoints.bytes,     f.held,
                                       static_cast<std::uint64_t>(f.restore.took.count()),
                                       f.restore.sensors,       f.restore.records,
                                       f.restore.epoch,         f.checkpoints.round_us,
                                       f.checkpoints.last_confirmed_ms, f.chain_breaks};
  }
  if (detail == snapshot_detail::with_stages)
    s.stages = sources_.stages->snapshot();
  if (sources_.earlier)
    add_life_counters(s, sources_.earlier->counted);
  return s;
}

} // namespace telluride
