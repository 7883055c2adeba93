// config_schema.hpp — the one table of Telluride's options, and everything driven by it.
//
// Each option has its key, kind, bounds, default, help text and whether it can change at
// runtime in one row of `config_options()`; the same rows validate reconfiguration messages
// (docs/wire-format.md, Reconfiguration), config files and `config set KEY=VALUE`, render
// `--help` and the README's configuration reference (`markdown_reference`). Errors name the
// key, what was expected and what was given: `sensor_batcher_one_batch_size must be an integer
// in 1..100000, got 0`. Nothing here throws for bad input.
#pragma once

#include "telluride/domain/bounded_json.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"

#include <causeway/amqp/password_mask.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace telluride {

enum class option_kind {
  integer,     ///< a JSON integer within [min, max]
  string,      ///< any JSON string
  amqp_url,    ///< a string starting with amqp:// or amqps://
  host_port,   ///< a `HOST:PORT` string (see host_port.hpp)
  thresholds,  ///< an object: sensor type → number, with "default"
  routes,      ///< an object: route key (see `route_options()`) → name
  node_name,   ///< a string of at most 128 bytes of UTF-8 without control characters
  state_mode,  ///< "durable" or "memory"
  queue_name,  ///< a queue name: 1..255 bytes, not starting with "amq."
};

struct option_spec {
  std::string_view key;          ///< the JSON key (and CLI/README name)
  option_kind kind;
  std::int64_t min;              ///< inclusive bounds of integer options
  std::int64_t max;
  std::string_view default_json; ///< the default, as JSON text
  std::string_view help;         ///< one line: what it does, units
  bool is_reconfigurable;        ///< may appear in a reconfiguration message
  /// Stores an already validated value into the config.
  void (*store)(config&, const nlohmann::json&);
  /// The config's value as JSON (the secret ones unmasked).
  nlohmann::json (*load)(const config&);
};

/// One route name under the `routes` key.
struct route_spec {
  std::string_view key;           ///< e.g. `readings_queue`, written `routes.readings_queue`
  std::string_view default_name;  ///< the name of docs/wire-format.md (Routes)
  std::string_view help;
  std::string route_names::*field;
};

/// Every option, reconfiguration keys first in the documented order.
std::span<const option_spec> config_options() noexcept;

/// Every route name, exchanges first, then routing key and queue of each route.
std::span<const route_spec> route_options() noexcept;

/// The option with this key, or nullptr.
const option_spec* find_option(std::string_view key) noexcept;

/// Checks a reconfiguration message: a non-empty object of reconfiguration keys with integers
/// in bounds. The error names the first problem in the object's iteration order:
/// `reconfiguration must be a non-empty JSON object`, `unknown key "batch_sizy"; known keys:
/// ...`, `amqp_url cannot be changed at runtime; ...`, `prefetch_count must be an integer in
/// 1..65535, got 1.5`.
expected<void> validate_reconfiguration(const nlohmann::json& change);

/// Parses and checks the body of a control message; problems are reported in the body's own
/// key order. `reconfiguration is not valid JSON: ...` when it does not parse.
expected<nlohmann::json> parse_reconfiguration(std::string_view body);

/// `current` with the keys of `change` replaced, after `validate_reconfiguration`.
expected<config> apply_reconfiguration(const config& current, const nlohmann::json& change);

/// `base` with any of the config file's keys replaced (all options, reconfigurable or not;
/// `routes` merges name by name, `alert_thresholds` replaces the whole map). For config files
/// and command-line flags: `merge_config(cfg, {{"amqp_url", url}})`.
expected<config> merge_config(const config& base, const nlohmann::json& overrides);

/// How large and how deeply nested a config file may be (its routes and thresholds get more
/// room than a reconfiguration's 64 KiB, within the same depth).
inline constexpr json_limits config_file_limits{1024 * 1024, 64};

/// Reads a config file: a JSON object of options; missing keys keep their defaults. Errors
/// are one line naming the path and the key: `config file "x.json": unknown key "foo"; ...`,
/// `cannot read config file "x.json": No such file or directory`.
expected<config> load_config_file(const std::filesystem::path& path);

/// A command-line flag's text as the JSON value of the option `key`, for `merge_config`: a
/// decimal integer for integer options (`shards must be an integer in 1..1024, got abc`),
/// the text as a JSON string for the string-valued ones. Bounds are checked by `merge_config`;
/// objects (`alert_thresholds`, `routes`) have no flag.
expected<nlohmann::json> parse_flag_value(std::string_view key, std::string_view text);

/// One `KEY=VALUE` argument of `telluride config set`: a reconfiguration key and a decimal
/// integer in bounds. Returns the key and the value as JSON.
expected<std::pair<std::string, nlohmann::json>> parse_key_value(std::string_view argument);

/// All arguments of `telluride config set` as one reconfiguration message. At least one; a
/// key given twice is an error.
expected<nlohmann::json> parse_key_values(std::span<const std::string> arguments);

/// Whether `to_json` shows the AMQP password and the HTTP token.
enum class secrets { masked, shown };

/// The whole config, every key (for `GET /api/config` masked; `shown` writes a config file).
nlohmann::json to_json(const config& cfg, secrets mode = secrets::masked);

/// Only the reconfiguration keys: the `config` of a `config_applied` event.
nlohmann::json reconfiguration_to_json(const config& cfg);

/// The table as a Markdown table, one row per option and per route name, for the README.
std::string markdown_reference();

/// `amqp://guest:***@host:5672/%2f`: a URL with its password hidden, as the AMQP module's logs
/// show it (causeway/amqp/password_mask.hpp).
using causeway::amqp::mask_password;

} // namespace telluride
