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

live_feed::live_feed(live_feed_parts parts) : parts_(std::move(parts)), thread_([this] { run(); }) {}

live_feed::~live_feed() {
  stop();
}

void live_feed::stop() {
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
  std::unique_lock lock{mutex_};
  while (!is_stopping_) {
    lock.unlock();
    try {
      const auto now = std::chrono::steady_clock::now();
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
    } catch (const std::exception& e) {
      spdlog::error("live feed: a snapshot failed: {}", e.what());  // the next tick tries again
    }
    lock.lock();
    wake_.wait_for(lock, parts_.check_every, [this] { return is_stopping_; });
  }
}

} // namespace telluride
