// live_feed.hpp — the daemon's live snapshot, built once per tick and published to the viewers
// of GET /api/stream.
//
// A thread of its own looks every `check_every` whether a snapshot is due (feed_schedule.hpp:
// every `interval`, and at once when the config version, the shards' ownership or the daemon's
// readiness changed). A due snapshot closes the stages' workload interval (node_metrics::
// close_interval, which /metrics shows too), takes one daemon_snapshot and the host's per-core
// CPU (host_cpu.hpp), renders them (live_view.hpp) and publishes them framed as one server-sent
// event to the event feed; the HTTP server shares those bytes with every viewer. Its cost is one
// snapshot per tick, whatever the number of viewers, and none per reading.
//
// While nobody views the feed (event_feed::viewers) it renders nothing: it wakes once an
// interval to close the workload interval and to note the totals and the host's CPU, so that
// the first frame a viewer gets has its rates over the last interval, not since the daemon
// started. A viewer arriving wakes it at once (event_feed::on_demand) for that frame. Paced at
// 5,000 readings/s this thread took 0.12-0.17 CPU-s per million readings when it rendered for
// nobody, 0.06-0.08 resting (~1 % of the daemon's CPU saved; its wake-up a second is most of
// the rest on a shared VM).
//
// Thread rule: the constructor starts the thread; `stop` (or the destructor) ends and joins it,
// from the owner's thread.
#pragma once

#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/daemon_probe.hpp"
#include "telluride/daemon/recent_alerts.hpp"
#include "telluride/daemon/shard_board.hpp"
#include "telluride/http/event_feed.hpp"
#include "telluride/telemetry/node_metrics.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace telluride {

/// What the live feed reads and where it publishes; every pointer is set.
struct live_feed_parts {
  std::shared_ptr<const daemon_probe> status;
  std::shared_ptr<node_metrics> stages;  ///< its workload intervals end at each snapshot
  std::shared_ptr<const config_store> config;
  std::shared_ptr<const shard_board> shards;
  std::shared_ptr<const recent_alerts> alerts;
  std::shared_ptr<http::event_feed> feed;
  std::chrono::milliseconds interval{1000};
  /// How soon a new config version, shard owner or readiness shows: each look wakes the thread
  /// (at 100 ms, half of its CPU paced at 5,000 readings/s; the snapshot itself is the rest).
  std::chrono::milliseconds check_every{250};
};

class live_feed {
public:
  /// Starts the thread; the first snapshot is published at once.
  explicit live_feed(live_feed_parts parts);
  ~live_feed();
  live_feed(const live_feed&) = delete;
  live_feed& operator=(const live_feed&) = delete;

  /// Ends and joins the thread. Idempotent.
  void stop();

private:
  void run();

  live_feed_parts parts_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool is_stopping_ = false;
  bool is_wanted_ = false;  // a viewer arrived to an unviewed feed since the thread last looked
  std::thread thread_;
};

} // namespace telluride
