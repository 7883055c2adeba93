#include "telluride/daemon/live_feed.hpp"

#include "telluride/daemon/feed_schedule.hpp"
#include "telluride/daemon/live_view.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/http/sse_frame.hpp"
#include "telluride/telemetry/host_cpu.hpp"

#include <causeway/thread_name.hpp>

#include <spdlog/spdlog.h>

#include <exception>
#include <optional>
#include <string>

namespace telluride {

namespace {

/// Who owns each shard and in which state, as text: what a change of ownership changes.
std::string ownership_text(const shard_board_view& view) {
  std::string text;
  for (const auto& r : view.shards)
    text.append(std::to_string(r.shard)).append("=").append(r.owner).append("/").append(r.state).append(";");
  return text;
}

} // namespace

live_feed::live_feed(live_feed_parts parts) : parts_(std::move(parts)), thread_([this] { run(); }) {
  parts_.feed->on_demand([this] {
    {
      std::lock_guard lock{mutex_};
      is_wanted_ = true;
    }
    wake_.notify_all();
  });
}

live_feed::~live_feed() {
  stop();
}

void live_feed::stop() {
  parts_.feed->on_demand(nullptr);  // returns once no demand function runs
  {
    std::lock_guard lock{mutex_};
    is_stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void live_feed::run() {
  causeway::name_this_thread("live-feed");
  feed_schedule schedule{parts_.interval};
  std::optional<daemon_snapshot> previous;
  host_cpu_meter host_cpu;  // per-core CPU since the previous snapshot
  std::chrono::steady_clock::time_point rested{};  // the last look while nobody viewed
  std::unique_lock lock{mutex_};
  while (!is_stopping_) {
    is_wanted_ = false;  // before the viewers are counted: a viewer arriving after this wakes the wait
    lock.unlock();
    const bool is_viewed = parts_.feed->viewers() > 0;
    try {
      const auto now = std::chrono::steady_clock::now();
      if (!is_viewed) {
        if (now - rested >= parts_.interval) {
          parts_.stages->close_interval(now);
          previous = parts_.status->take(now_ms(), snapshot_detail::totals);  // the next frame's rates
          host_cpu.sample();
          rested = now;
        }
        schedule.forget();  // the next viewer gets a frame at once
      } else {
        const auto version = parts_.config->version();
        const auto shards = parts_.shards->view();
        auto ownership = ownership_text(shards);
        auto status = parts_.status->check_readiness().problem().value_or("");
        if (schedule.is_due(now, version, ownership, status)) {
          parts_.stages->close_interval(now);
          auto snapshot = parts_.status->take(now_ms(), snapshot_detail::with_stages);
          auto rates = previous ? rates_between(*previous, snapshot) : live_rates{};
          auto document = live_snapshot_json(snapshot, rates, shards, parts_.alerts->latest(), host_cpu.sample());
          parts_.feed->publish(http::sse_event(document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
          schedule.published(now, snapshot.config_version, std::move(ownership),
                             snapshot.ready.problem().value_or(""));
          previous = std::move(snapshot);
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("live feed: a snapshot failed: {}", e.what());  // the next tick tries again
    }
    lock.lock();
    const auto until = is_viewed ? std::chrono::steady_clock::now() + parts_.check_every : rested + parts_.interval;
    wake_.wait_until(lock, until, [this] { return is_stopping_ || is_wanted_; });
  }
}

} // namespace telluride
