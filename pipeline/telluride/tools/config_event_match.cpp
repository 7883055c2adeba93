#include "telluride/tools/config_event_match.hpp"

namespace telluride::tools {

namespace {

bool holds_change(const nlohmann::json& config, const nlohmann::json& change) {
  if (!config.is_object())
    return false;
  for (const auto& [key, value] : change.items()) {
    const auto found = config.find(key);
    if (found == config.end() || *found != value)
      return false;
  }
  return true;
}

} // namespace

config_outcome match_config_event(const nlohmann::json& event, std::string_view correlation_id,
                                  const nlohmann::json& change) {
  if (!event.is_object())
    return config_outcome::unrelated;
  const auto kind = event.find("event");
  if (kind == event.end() || !kind->is_string())
    return config_outcome::unrelated;
  const bool is_applied = *kind == "config_applied";
  const bool is_rejected = *kind == "config_rejected";
  if (!is_applied && !is_rejected)
    return config_outcome::unrelated;
  if (const auto id = event.find("correlation_id"); id != event.end() && id->is_string()) {
    if (id->get_ref<const std::string&>() != correlation_id)
      return config_outcome::unrelated;
    return is_applied ? config_outcome::applied : config_outcome::rejected;
  }
  if (is_rejected)
    return config_outcome::rejected;
  const auto config = event.find("config");
  return config != event.end() && holds_change(*config, change) ? config_outcome::applied
                                                                : config_outcome::unrelated;
}

} // namespace telluride::tools
