#include "telluride/daemon/reporter.hpp"

#include "telluride/daemon/config_actor.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/domain/config_schema.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace telluride {

namespace {

using aggregates_tick = caf::atom_constant<caf::atom("tl_aggtick")>;
using metrics_tick = caf::atom_constant<caf::atom("tl_mettick")>;
using stats_tick = caf::atom_constant<caf::atom("tl_sttick")>;
constexpr auto stats_interval = std::chrono::milliseconds(100);

template <std::size_t N>
void copy_text(char (&to)[N], const std::string& from) {
  auto n = std::min(from.size(), N - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

} // namespace

shared_stats_record make_stats_record(const daemon_state& state, double messages_per_second) {
  shared_stats_record r;
  auto [cfg, version] = state.current();
  auto totals = state.totals->peek();
  r.pid = static_cast<std::int32_t>(::getpid());
  r.started_ms = state.started_ms;
  r.updated_ms = now_ms();
  r.config_version = version;
  r.consumed = totals.total_message_count;
  r.successful = totals.total_successful_count;
  r.failed = totals.total_failed_count;
  r.duplicates = state.totals->duplicates();
  auto source = state.readings->current();
  auto consumed = source->stats();
  auto settled = consumed.acked + consumed.rejected + consumed.requeued + consumed.dropped_acks;
  r.in_flight = consumed.delivered > settled ? consumed.delivered - settled : 0;
  r.sensors = state.tracker->size();
  r.alerts = state.tracker->alerts_raised();
  auto conn = source->connection()->stats();
  r.reconnects = conn.connects > 0 ? conn.connects - 1 : 0;
  r.messages_per_second = messages_per_second;
  r.ready = state.is_ready() ? 1 : 0;
  copy_text(r.amqp_url, mask_password(cfg.amqp_url));
  copy_text(r.http_listen, to_string(cfg.http_listen));
  return r;
}

reporter::reporter(caf::actor_config& cfg, std::shared_ptr<daemon_state> state,
                   std::shared_ptr<shared_stats_writer> stats)
  : caf::event_based_actor(cfg), state_(std::move(state)), stats_(std::move(stats)) {
  auto [current, version] = state_->current();
  aggregate_interval_ = current.aggregate_interval;
  metrics_interval_ = current.metrics_interval;
}

caf::behavior reporter::make_behavior() {
  delayed_send(this, aggregate_interval_, aggregates_tick::value);
  delayed_send(this, metrics_interval_, metrics_tick::value);
  delayed_send(this, stats_interval, stats_tick::value);
  return {
    [this](aggregates_tick) {
      publish_aggregates();
      delayed_send(this, aggregate_interval_, aggregates_tick::value);
    },
    [this](metrics_tick) {
      publish_metrics();
      delayed_send(this, metrics_interval_, metrics_tick::value);
    },
    [this](stats_tick) {
      write_stats();
      delayed_send(this, stats_interval, stats_tick::value);
    },
    [this](shutdown_atom) {
      // The last round goes out even when backed up: it is bounded by the sensors and stages.
      publish_aggregates(true);
      publish_metrics(true);
      write_stats();
      quit();
      return true;
    },
  };
}

bool reporter::backed_up() {
  const std::uint64_t outstanding = state_->out->publisher().stats().outstanding;
  const std::uint64_t limit = std::max<std::uint64_t>(min_output_backlog, 2 * state_->tracker->size());
  // Held above the limit, sent again at half of it: no flapping while a slow broker catches up.
  const bool backed_up = holding_ ? outstanding > limit / 2 : outstanding > limit;
  if (backed_up && !holding_)
    spdlog::warn("outputs: {} messages wait for the broker (alarm or slow broker); aggregates and "
                 "metrics are held, and their latest state is sent once it drains",
                 outstanding);
  else if (!backed_up && holding_)
    spdlog::info("outputs: the broker takes messages again; sending the held aggregates and metrics");
  holding_ = backed_up;
  return backed_up;
}

void reporter::publish_aggregates(bool force) {
  if (!force && backed_up())
    return;  // the sensors stay marked changed
  for (auto& json : state_->tracker->take_changed_json())
    state_->out->aggregate(std::move(json));
}

void reporter::publish_metrics(bool force) {
  auto sample = state_->totals->sample(now_ms());
  last_rate_ = sample.messages_per_second;
  if (!force && backed_up())
    return;  // the stages stay marked changed; the totals are cumulative
  for (const auto& metric : state_->nodes->take_changed())
    state_->out->metric(to_json(metric).dump());
  state_->out->throughput(to_json(sample).dump());
}

void reporter::write_stats() {
  if (stats_)
    stats_->write(make_stats_record(*state_, last_rate_));
}

} // namespace telluride
