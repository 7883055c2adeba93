// reading_handler.hpp — Telluride's callbacks on the readings pipeline.
//
// handle_message routes a decoded reading to its sensor's batcher; handle_batch applies the
// batch to the sensor tracker (the batch is acknowledged only after that returns), publishes
// the alerts it raised (and remembers them in recent_alerts, for the live feed) and fails the
// readings the tracker refused (new sensors beyond max_sensors); handle_failed dead-letters bad
// and refused readings with their reason (x-telluride-reason), waits until the broker has them,
// logs and counts them.
#pragma once

#include "telluride/daemon/outputs.hpp"
#include "telluride/daemon/recent_alerts.hpp"
#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/telemetry/throughput.hpp"

#include <causeway/handler.hpp>

#include <atomic>
#include <chrono>
#include <memory>

namespace telluride {

class reading_handler : public causeway::handler {
public:
  /// `recent` may be null (no alert is remembered).
  reading_handler(std::shared_ptr<sensor_tracker> tracker, std::shared_ptr<throughput> totals,
                  std::shared_ptr<outputs> out, std::shared_ptr<recent_alerts> recent = nullptr);

  void handle_message(causeway::message& msg, const causeway::context& ctx) override;
  void handle_batch(std::span<causeway::message> batch, const causeway::batch_info& info,
                    const causeway::context& ctx) override;
  void handle_failed(std::span<causeway::message> failed, const causeway::context& ctx) override;

private:
  void log_failure(const causeway::message& msg);
  /// Fails a reading of a sensor the tracker refused, naming max_sensors.
  void refuse(causeway::message& msg, const sensor_key& key);

  std::shared_ptr<sensor_tracker> tracker_;
  std::shared_ptr<throughput> totals_;
  std::shared_ptr<outputs> out_;
  std::shared_ptr<recent_alerts> recent_;
  // Failure log lines are capped per window so a flood of bad input cannot flood the log.
  std::atomic<std::int64_t> log_window_{0};
  std::atomic<std::uint32_t> logged_in_window_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

/// Epoch milliseconds now.
std::int64_t now_ms() noexcept;

} // namespace telluride
