#include "telluride/domain/alert_tracker.hpp"

#include "telluride/domain/json_text.hpp"

namespace telluride {

void append_json(std::string& out, const alert& raised) {
  out += "{\"event\":\"threshold_exceeded\",";
  append_json_fields(out, raised.key);
  out += ",\"reading\":";
  append_json_number(out, raised.reading);
  out += ",\"threshold\":";
  append_json_number(out, raised.threshold);
  out += ",\"consecutive\":";
  append_json_unsigned(out, raised.consecutive);
  out += ",\"timestamp\":";
  append_json_string(out, raised.timestamp);
  out += '}';
}

std::string to_json_text(const alert& raised) {
  std::string out;
  out.reserve(256);
  append_json(out, raised);
  return out;
}

alert_tracker::alert_tracker(alert_rules rules)
  : rules_(std::move(rules)), by_type_(rules_.thresholds.begin(), rules_.thresholds.end()) {
  if (const auto found = rules_.thresholds.find(std::string_view{"default"}); found != rules_.thresholds.end())
    default_threshold_ = found->second;
}

std::optional<double> alert_tracker::threshold_for(const std::optional<std::string>& type) const {
  if (type) {
    if (const auto found = by_type_.find(std::string_view{*type}); found != by_type_.end())
      return found->second;
  }
  return default_threshold_;
}

std::optional<alert> alert_tracker::observe(const reading& r) {
  const std::optional<double> threshold = threshold_for(r.type);
  if (!threshold || r.value <= *threshold) {
    if (!counters_.empty())
      if (const auto found = counters_.find(r.key); found != counters_.end())
        counters_.erase(found);
    return std::nullopt;
  }
  auto found = counters_.find(r.key);
  if (found == counters_.end())
    found = counters_.emplace(r.key, 0).first;
  const std::uint64_t count = ++found->second;
  if (count != rules_.alert_after)
    return std::nullopt;
  ++raised_[found->first];
  return alert{r.key, r.value, *threshold, count, r.timestamp.str()};
}

std::uint64_t alert_tracker::consecutive(const sensor_key& key) const {
  const auto found = counters_.find(key);
  return found == counters_.end() ? 0 : found->second;
}

std::uint64_t alert_tracker::consecutive(const compact_sensor_key& key) const {
  if (counters_.empty())
    return 0;
  const auto found = counters_.find(key);
  return found == counters_.end() ? 0 : found->second;
}

std::uint64_t alert_tracker::raised_for(const compact_sensor_key& key) const {
  if (raised_.empty())
    return 0;
  const auto found = raised_.find(key);
  return found == raised_.end() ? 0 : found->second;
}

void alert_tracker::set_raised_for(const compact_sensor_key& key, std::uint64_t count) {
  if (count == 0)
    raised_.erase(key);
  else
    raised_.insert_or_assign(key, count);
}

void alert_tracker::set_consecutive(const compact_sensor_key& key, std::uint64_t count) {
  if (count == 0)
    counters_.erase(key);
  else
    counters_.insert_or_assign(key, count);
}

} // namespace telluride
