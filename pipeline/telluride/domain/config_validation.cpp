// Validation of reconfigurations, config files and `config set` arguments against the table
// in config_schema.cpp. Checks are templates over nlohmann's json types so that text parsed
// here (ordered_json) is checked in the order the user wrote it.
#include "telluride/domain/config_schema.hpp"

#include "telluride/domain/bounded_json.hpp"

#include <causeway/utf8.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <istream>

namespace telluride {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// AMQP short strings (exchange, queue and routing key names) hold at most 255 bytes.
constexpr std::size_t max_name_size = 255;
// A node name travels in checkpoint records and membership messages, and may become part of a
// queue name: short enough to leave room for a prefix.
constexpr std::size_t max_node_name_size = 128;
constexpr std::size_t max_shown_size = 60;

// A reconfiguration larger than 64 KiB or nested deeper than 64 levels is rejected
// (docs/wire-format.md, Reconfiguration). A config file is given more room
// (config_file_limits, config_schema.hpp).
constexpr json_limits reconfiguration_limits{64 * 1024, 64};

/// The value as JSON text, shortened, for "got ..." (never throws on bad UTF-8).
template <class Json>
std::string shown(const Json& value) {
  // Cut at a character boundary: an error must stay valid UTF-8 (found by config_fuzz).
  return causeway::one_line_utf8(value.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace),
                                 max_shown_size);
}


std::string json_quoted(std::string_view text) {
  return json(std::string(text)).dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

/// A key as a JSON string, shortened like `shown`: an unknown key may be 64 KiB long.
std::string quoted_key(std::string_view key) {
  return shown(json(std::string(key)));
}

std::string known_keys(bool reconfigurable_only) {
  std::string out;
  for (const option_spec& spec : config_options()) {
    if (reconfigurable_only && !spec.is_reconfigurable)
      continue;
    out += out.empty() ? "" : ", ";
    out += spec.key;
  }
  return out;
}

std::string known_route_keys() {
  std::string out;
  for (const route_spec& route : route_options()) {
    out += out.empty() ? "routes." : ", routes.";
    out += route.key;
  }
  return out;
}

error unknown_key(std::string_view key, bool reconfigurable_only) {
  return error{"unknown key " + quoted_key(key) + "; known keys: " + known_keys(reconfigurable_only)};
}

error not_reconfigurable(std::string_view key) {
  return error{std::string(key) + " cannot be changed at runtime; reconfigurable keys: " +
               known_keys(true)};
}

error integer_out_of_bounds(const option_spec& spec, std::string_view given) {
  return error{std::string(spec.key) + " must be an integer in " + std::to_string(spec.min) +
               ".." + std::to_string(spec.max) + ", got " + std::string(given)};
}

template <class Json>
bool is_integer_in_bounds(const option_spec& spec, const Json& value) {
  if (value.is_number_unsigned())
    return value.template get<std::uint64_t>() <= static_cast<std::uint64_t>(spec.max) &&
           value.template get<std::uint64_t>() >= static_cast<std::uint64_t>(spec.min);
  if (value.is_number_integer())
    return value.template get<std::int64_t>() >= spec.min &&
           value.template get<std::int64_t>() <= spec.max;
  return false;
}

template <class Json>
std::optional<error> check_thresholds(const Json& value) {
  if (!value.is_object())
    return error{"alert_thresholds must be an object of sensor type → number, got " +
                 shown(value)};
  for (const auto& [type, threshold] : value.items())
    if (!threshold.is_number())
      return error{"alert_thresholds." + type + " must be a number, got " + shown(threshold)};
  if (!value.contains("default"))
    return error{"alert_thresholds must contain \"default\" (for readings without a listed "
                 "type)"};
  return std::nullopt;
}

/// An exchange, routing key or (`is_queue`) queue name at `path`: AMQP short strings hold at
/// most 255 bytes, and RabbitMQ reserves queue names starting with "amq.".
template <class Json>
std::optional<error> check_name(const std::string& path, const Json& name, bool is_queue) {
  if (!name.is_string() || name.template get<std::string>().empty() ||
      name.template get<std::string>().size() > max_name_size)
    return error{path + " must be a non-empty string of at most 255 bytes, got " + shown(name)};
  if (!causeway::is_valid_utf8(name.template get<std::string>()))
    return error{path + " must be valid UTF-8, got " + shown(name)};
  if (is_queue && name.template get<std::string>().starts_with("amq."))
    return error{path + " must not start with \"amq.\" (reserved by RabbitMQ), got " +
                 shown(name)};
  return std::nullopt;
}

template <class Json>
std::optional<error> check_routes(const Json& value) {
  if (!value.is_object())
    return error{"routes must be an object of route key → name, got " + shown(value)};
  for (const auto& [key, name] : value.items()) {
    const route_spec* route = nullptr;
    for (const route_spec& candidate : route_options())
      if (candidate.key == key)
        route = &candidate;
    if (route == nullptr)
      return error{"unknown key " + quoted_key("routes." + key) + "; known keys: " +
                   known_route_keys()};
    if (auto problem = check_name("routes." + key, name, key.ends_with("_queue")))
      return problem;
  }
  return std::nullopt;
}

template <class Json>
std::optional<error> check_node_name(const std::string& key, const Json& value) {
  if (value.is_string()) {
    const auto name = value.template get<std::string>();
    const bool has_control = std::any_of(name.begin(), name.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (name.size() <= max_node_name_size && causeway::is_valid_utf8(name) && !has_control)
      return std::nullopt;
  }
  return error{key + " must be a string of at most 128 bytes of UTF-8 without control "
                     "characters, got " + shown(value)};
}

template <class Json>
std::optional<error> check_state_mode(const std::string& key, const Json& value) {
  if (value.is_string() && (value.template get<std::string>() == "durable" ||
                            value.template get<std::string>() == "memory"))
    return std::nullopt;
  return error{key + " must be \"durable\" or \"memory\", got " + shown(value)};
}

/// The first problem with `value` as the option `spec`, if any.
template <class Json>
std::optional<error> check_value(const option_spec& spec, const Json& value) {
  const std::string key(spec.key);
  switch (spec.kind) {
    case option_kind::integer:
      if (is_integer_in_bounds(spec, value))
        return std::nullopt;
      return integer_out_of_bounds(spec, shown(value));
    case option_kind::string:
      if (value.is_string())
        return std::nullopt;
      return error{key + " must be a string, got " + shown(value)};
    case option_kind::amqp_url:
      if (value.is_string()) {
        const auto url = value.template get<std::string>();
        if (url.starts_with("amqp://") || url.starts_with("amqps://"))
          return std::nullopt;
        return error{key + " must start with amqp:// or amqps://, got " +
                     json_quoted(mask_password(url))};
      }
      return error{key + " must be a string starting with amqp:// or amqps://, got " +
                   shown(value)};
    case option_kind::host_port:
      if (value.is_string() && parse_host_port(value.template get<std::string>()))
        return std::nullopt;
      return error{key + " must be HOST:PORT (e.g. 127.0.0.1:9464), got " + shown(value)};
    case option_kind::thresholds: return check_thresholds(value);
    case option_kind::routes: return check_routes(value);
    case option_kind::node_name: return check_node_name(key, value);
    case option_kind::state_mode: return check_state_mode(key, value);
    case option_kind::queue_name: return check_name(key, value, true);
  }
  return std::nullopt;
}

/// Checks every key of `object`; reconfigurations accept only reconfigurable keys.
template <class Json>
expected<void> check_object(const Json& object, bool is_reconfiguration) {
  for (const auto& [key, value] : object.items()) {
    const option_spec* spec = find_option(key);
    if (spec == nullptr)
      return unknown_key(key, is_reconfiguration);
    if (is_reconfiguration && !spec->is_reconfigurable)
      return not_reconfigurable(key);
    if (auto problem = check_value(*spec, value))
      return std::move(*problem);
  }
  return {};
}

template <class Json>
expected<void> check_reconfiguration(const Json& change) {
  if (!change.is_object() || change.empty())
    return error{"reconfiguration must be a non-empty JSON object"};
  return check_object(change, true);
}

/// Stores the keys of an already checked object.
config store_all(config cfg, const json& object) {
  for (const auto& [key, value] : object.items())
    find_option(key)->store(cfg, value);
  return cfg;
}

/// Rules between keys, after each key was checked on its own: the sharded exchange is an
/// exchange of its own, and the shard queues `readings_queue.<shard>` are AMQP names too.
expected<config> check_combination(config cfg) {
  // With shards 1 the daemon deletes the sharded exchange: never one of the others.
  const std::string& sharded = cfg.routes.shards_exchange;
  if (sharded == cfg.routes.exchange || sharded == cfg.routes.events_exchange)
    return error{"routes.shards_exchange must differ from routes.exchange and "
                 "routes.events_exchange, got " + json_quoted(sharded)};
  if (cfg.shards > 1) {
    const std::size_t suffix = 1 + std::to_string(cfg.shards - 1).size();
    if (cfg.routes.readings_queue.size() + suffix > max_name_size)
      return error{"routes.readings_queue must be at most " +
                   std::to_string(max_name_size - suffix) + " bytes with shards " +
                   std::to_string(cfg.shards) + " (its shard queues add \".<shard>\"), got " +
                   std::to_string(cfg.routes.readings_queue.size()) + " bytes"};
  }
  return cfg;
}

/// A decimal integer within the bounds of `spec`, from a flag or `KEY=VALUE` text.
expected<std::int64_t> integer_from_text(const option_spec& spec, std::string_view text) {
  std::int64_t value = 0;
  const char* last = text.data() + text.size();
  const auto [end, status] = std::from_chars(text.data(), last, value);
  if (text.empty() || status != std::errc{} || end != last || value < spec.min ||
      value > spec.max)
    return integer_out_of_bounds(
        spec, text.empty() ? "nothing" : causeway::one_line_utf8(text, max_shown_size));
  return value;
}

/// At most `limit` + 1 bytes of `in`: enough to tell that a file is over the limit without
/// reading all of it (a config path may name /dev/zero or a fifo).
std::string read_at_most(std::istream& in, std::size_t limit) {
  std::string text(limit + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

} // namespace

expected<void> validate_reconfiguration(const nlohmann::json& change) {
  return check_reconfiguration(change);
}

expected<nlohmann::json> parse_reconfiguration(std::string_view body) {
  auto change = parse_bounded_json(body, reconfiguration_limits);
  if (!change)
    return error{"reconfiguration " + change.err().message};
  if (auto checked = check_reconfiguration(*change); !checked)
    return checked.err();
  return json(*change);
}

expected<config> apply_reconfiguration(const config& current, const nlohmann::json& change) {
  if (auto checked = check_reconfiguration(change); !checked)
    return checked.err();
  return store_all(current, change);
}

expected<config> merge_config(const config& base, const nlohmann::json& overrides) {
  if (!overrides.is_object())
    return error{"config must be a JSON object, got " + shown(overrides)};
  if (auto checked = check_object(overrides, false); !checked)
    return checked.err();
  return check_combination(store_all(base, overrides));
}

expected<config> load_config_file(const std::filesystem::path& path) {
  const std::string name = json_quoted(path.string());
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored))
    return error{"cannot read config file " + name + ": Is a directory"};
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return error{"cannot read config file " + name + ": " + std::strerror(errno)};
  const std::string text = read_at_most(in, config_file_limits.max_bytes);
  if (in.bad())
    return error{"cannot read config file " + name + ": " + std::strerror(errno)};
  auto file = parse_bounded_json(text, config_file_limits);
  if (!file)
    return error{"config file " + name + " " + file.err().message};
  if (!file->is_object())
    return error{"config file " + name + " must hold one JSON object, got " + shown(*file)};
  if (auto checked = check_object(*file, false); !checked)
    return error{"config file " + name + ": " + checked.err().message};
  auto combined = check_combination(store_all(config{}, json(*file)));
  if (!combined)
    return error{"config file " + name + ": " + combined.err().message};
  return combined;
}

expected<std::pair<std::string, nlohmann::json>> parse_key_value(std::string_view argument) {
  const std::size_t equals = argument.find('=');
  if (equals == std::string_view::npos || equals == 0)
    return error{"expected KEY=VALUE, got " + json_quoted(argument)};
  const std::string_view key = argument.substr(0, equals);
  const std::string_view text = argument.substr(equals + 1);
  const option_spec* spec = find_option(key);
  if (spec == nullptr)
    return unknown_key(key, true);
  if (!spec->is_reconfigurable)
    return not_reconfigurable(key);
  auto value = integer_from_text(*spec, text);
  if (!value)
    return value.err();
  return std::pair{std::string(key), json(*value)};
}

expected<nlohmann::json> parse_flag_value(std::string_view key, std::string_view text) {
  const option_spec* spec = find_option(key);
  if (spec == nullptr)
    return unknown_key(key, false);
  switch (spec->kind) {
    case option_kind::integer: {
      auto value = integer_from_text(*spec, text);
      if (!value)
        return value.err();
      return json(*value);
    }
    case option_kind::thresholds:
    case option_kind::routes:
      return error{std::string(key) + " is set in the config file only"};
    default:
      return json(std::string(text));
  }
}

expected<nlohmann::json> parse_key_values(std::span<const std::string> arguments) {
  if (arguments.empty())
    return error{"expected at least one KEY=VALUE; reconfigurable keys: " + known_keys(true)};
  json change = json::object();
  for (const std::string& argument : arguments) {
    auto entry = parse_key_value(argument);
    if (!entry)
      return entry.err();
    if (change.contains(entry->first))
      return error{entry->first + " is given twice"};
    change[entry->first] = std::move(entry->second);
  }
  return change;
}

} // namespace telluride
