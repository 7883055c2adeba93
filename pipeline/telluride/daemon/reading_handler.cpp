#include "telluride/daemon/reading_handler.hpp"

#include "telluride/daemon/pipeline_shape.hpp"
#include "telluride/daemon/shard_tag.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

namespace {

constexpr std::uint32_t log_lines_per_window = 20;
constexpr std::int64_t log_window_ms = 10'000;
constexpr auto dead_letter_timeout = std::chrono::seconds(30);
// How the reason of a refused reading ends (see refuse): such readings are not logged one by
// one; the bound being reached is logged once.
constexpr std::string_view refusal_ending = " sensors are tracked already";

bool is_refusal(const causeway::message& msg) {
  return msg.failure_reason().ends_with(refusal_ending);
}

} // namespace

std::int64_t now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

reading_handler::reading_handler(std::shared_ptr<sensor_tracker> tracker,
                                 std::shared_ptr<throughput> totals, std::shared_ptr<outputs> out,
                                 std::shared_ptr<recent_alerts> recent)
  : tracker_(std::move(tracker)), totals_(std::move(totals)), out_(std::move(out)), recent_(std::move(recent)) {}

void reading_handler::handle_message(causeway::message& msg, const causeway::context&) {
  const auto* r = decoded(msg);
  if (r == nullptr) {
    // Only when the pipeline runs without its partition_by: decode here instead.
    decode_reading(msg);
    r = decoded(msg);
    if (r == nullptr)
      return;
  }
  msg.put_batcher(batcher_for(r->hash));
}

void reading_handler::handle_batch(std::span<causeway::message> batch, const causeway::batch_info&,
                                   const causeway::context&) {
  thread_local std::vector<sensor_tracker::input> readings;  // kept warm per thread
  thread_local std::vector<std::size_t> messages;            // batch position of each reading
  readings.clear();
  messages.clear();
  const bool is_by_layout = tracker_->route() == sensor_tracker::routing::by_layout;
  shard_lookup shards;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (const auto* r = decoded(batch[i])) {
      readings.push_back({r, is_by_layout ? shards.of(batch[i]) : 0});
      messages.push_back(i);
    }
  auto outcome = tracker_->apply(readings);
  if (outcome.is_first_refusal)
    spdlog::warn("max_sensors reached: {} sensors are tracked; readings of any other sensor are dead-lettered "
                 "from now on (raise max_sensors and restart to track more)",
                 tracker_->max_sensors());
  for (std::size_t refused : outcome.refused)
    refuse(batch[messages[refused]], readings[refused].decoded->reading.key);
  totals_->record(outcome.applied, 0, now_ms());
  if (outcome.duplicates > 0)
    totals_->record_duplicates(outcome.duplicates);
  for (const auto& raised : outcome.alerts) {
    auto text = to_json_text(raised);
    if (recent_)
      recent_->add(text);
    out_->alert(std::move(text));
  }
}

void reading_handler::refuse(causeway::message& msg, const sensor_key& key) {
  // The framework then hands it to handle_failed, which dead-letters and counts it.
  msg.fail("sensor " + to_string(key) + " is not tracked: max_sensors (" +
           std::to_string(tracker_->max_sensors()) + ")" + std::string{refusal_ending});
}

void reading_handler::handle_failed(std::span<causeway::message> failed, const causeway::context&) {
  // The broker must hold the dead-lettered copy before the original is acknowledged.
  std::vector<std::future<causeway::amqp::publish_outcome>> confirmations;
  confirmations.reserve(failed.size());
  for (const auto& msg : failed) {
    if (!is_refusal(msg))
      log_failure(msg);
    auto promise = std::make_shared<std::promise<causeway::amqp::publish_outcome>>();
    confirmations.push_back(promise->get_future());
    out_->dead_letter(msg, msg.failure_reason(),
                      [promise](causeway::amqp::publish_outcome o) { promise->set_value(o); });
  }
  auto deadline = std::chrono::steady_clock::now() + dead_letter_timeout;
  for (auto& c : confirmations)
    if (c.wait_until(deadline) != std::future_status::ready ||
        c.get() != causeway::amqp::publish_outcome::confirmed)
      spdlog::error("dead-letter publish not confirmed by the broker; the failed reading is acknowledged anyway");
  totals_->record(0, failed.size(), now_ms());
}

void reading_handler::log_failure(const causeway::message& msg) {
  auto now = now_ms();
  auto window = now / log_window_ms;
  if (log_window_.exchange(window) != window) {
    logged_in_window_ = 0;
    if (auto n = suppressed_.exchange(0); n > 0)
      spdlog::warn("{} more failed readings were not logged", n);
  }
  if (logged_in_window_.fetch_add(1) >= log_lines_per_window) {
    ++suppressed_;
    return;
  }
  if (auto id = msg.metadata.get("message_id"); !id.empty())
    spdlog::warn("reading \"{}\" failed and was dead-lettered: {}", id, msg.failure_reason());
  else
    spdlog::warn("reading without message_id failed and was dead-lettered: {}", msg.failure_reason());
}

} // namespace telluride
