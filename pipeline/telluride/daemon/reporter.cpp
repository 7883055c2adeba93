#include "telluride/daemon/reporter.hpp"

#include "telluride/daemon/config_actor.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/snapshot_views.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace telluride {

namespace {

using report_tick = caf::atom_constant<caf::atom("tl_reptick")>;
using chunk_confirmed = caf::atom_constant<caf::atom("tl_aggconf")>;
// Fresh enough for a person running `telluride stats`. Each tick wakes CAF's clock thread twice
// (the delayed_send, its delivery) and a worker, busy or idle: at 100 ms that was the most of
// any timer.
constexpr auto stats_interval = std::chrono::milliseconds(250);

/// `due` moved on by whole `interval`s until it is after `now` (a tick that came late skips
/// what it missed rather than catching up).
caf::actor_clock::time_point after(caf::actor_clock::time_point due, std::chrono::milliseconds interval,
                                   caf::actor_clock::time_point now) {
  if (interval <= std::chrono::milliseconds::zero())
    return now + std::chrono::milliseconds(1000);
  do
    due += interval;
  while (due <= now);
  return due;
}

} // namespace

reporter::reporter(caf::actor_config& cfg, reporter_parts parts)
  : caf::event_based_actor(cfg), parts_(std::move(parts)) {}

caf::behavior reporter::make_behavior() {
  const auto start = clock().now();
  next_aggregates_ = start + parts_.aggregate_interval;
  next_metrics_ = start + parts_.metrics_interval;
  next_stats_ = start + stats_interval;
  tick(start);
  return {
    [this](report_tick) { tick(clock().now()); },
    [this](chunk_confirmed) {
      --chunks_unconfirmed_;
      publish_chunks();
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

void reporter::tick(caf::actor_clock::time_point now) {
  if (next_aggregates_ <= now) {
    publish_aggregates();
    next_aggregates_ = after(next_aggregates_, parts_.aggregate_interval, now);
  }
  if (next_metrics_ <= now) {
    publish_metrics();
    next_metrics_ = after(next_metrics_, parts_.metrics_interval, now);
  }
  if (next_stats_ <= now) {
    write_stats();
    next_stats_ = after(next_stats_, stats_interval, now);
  }
  const auto next = std::min({next_aggregates_, next_metrics_, next_stats_});
  delayed_send(this, next - now, report_tick::value);
}

bool reporter::backed_up() {
  const std::uint64_t outstanding = parts_.out->publisher().stats().outstanding;
  const std::uint64_t limit = std::max<std::uint64_t>(min_output_backlog, 2 * parts_.tracker->size());
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
  if (force) {
    // The last round: everything changed, at once (bounded by the sensors).
    round_ = {};
    for (auto& json : parts_.tracker->take_changed_json())
      parts_.out->aggregate(std::move(json));
    return;
  }
  if (round_.is_done()) {
    if (backed_up())
      return;  // the sensors stay marked changed
    round_ = parts_.tracker->begin_round();
  }
  publish_chunks();
}

void reporter::publish_chunks() {
  while (chunks_unconfirmed_ < chunks_in_flight && !round_.is_done()) {
    auto chunk = parts_.tracker->take_changed_json(round_, aggregate_chunk);
    if (chunk.empty())
      return;
    ++chunks_unconfirmed_;
    parts_.out->aggregates(std::move(chunk), [self = caf::actor_cast<caf::actor>(this)](causeway::amqp::publish_outcome) {
      caf::anon_send(self, chunk_confirmed::value);
    });
  }
}

void reporter::publish_metrics(bool force) {
  auto sample = parts_.totals->sample(now_ms());
  last_rate_ = sample.messages_per_second;
  if (!force && backed_up())
    return;  // the stages stay marked changed; the totals are cumulative
  for (const auto& metric : parts_.stages->take_changed())
    parts_.out->metric(to_json(metric).dump());
  parts_.out->throughput(to_json(sample).dump());
}

void reporter::write_stats() {
  if (parts_.stats)
    parts_.stats->write(make_stats_record(parts_.status->take(now_ms()), last_rate_));
}

} // namespace telluride
