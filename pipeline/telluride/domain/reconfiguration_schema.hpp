// reconfiguration_schema.hpp — the reconfiguration keys as a JSON document, for forms that
// validate as the user types (GET /api/config/schema, docs/http.md).
//
// Generated from the one option table (config_schema.hpp) that validates reconfiguration
// messages, so a form checking these bounds agrees with the daemon's verdict on every value.
#pragma once

#include <nlohmann/json.hpp>

namespace telluride {

/// {"keys": [{"key": "producer_concurrency", "type": "integer", "min": 1, "max": 64,
/// "default": 1, "help": "..."}, ...]}: every option that may appear in a reconfiguration, in
/// the table's order. Each is a JSON integer within [min, max] (bounds inclusive).
nlohmann::json reconfiguration_schema_json();

} // namespace telluride
