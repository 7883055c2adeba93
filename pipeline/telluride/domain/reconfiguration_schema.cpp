#include "telluride/domain/reconfiguration_schema.hpp"

#include "telluride/domain/config_schema.hpp"

#include <string>

namespace telluride {

namespace {

// Reconfiguration keys are integers today; a kind added to them must get its name here.
const char* kind_name(option_kind kind) {
  switch (kind) {
    case option_kind::integer: return "integer";
    default: return "string";
  }
}

} // namespace

nlohmann::json reconfiguration_schema_json() {
  auto keys = nlohmann::json::array();
  for (const option_spec& option : config_options()) {
    if (!option.is_reconfigurable)
      continue;
    nlohmann::json entry = {{"key", std::string{option.key}},
                            {"type", kind_name(option.kind)},
                            {"default", nlohmann::json::parse(option.default_json)},
                            {"help", std::string{option.help}}};
    if (option.kind == option_kind::integer) {
      entry["min"] = option.min;
      entry["max"] = option.max;
    }
    keys.push_back(std::move(entry));
  }
  return {{"keys", std::move(keys)}};
}

} // namespace telluride
