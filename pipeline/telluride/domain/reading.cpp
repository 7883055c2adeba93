#include "telluride/domain/reading.hpp"

#include "telluride/domain/json_text.hpp"
#include "telluride/domain/timestamp.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace telluride {

namespace ondemand = simdjson::ondemand;

static_assert(reading_padding == simdjson::SIMDJSON_PADDING);

namespace {

// A reading is ~100 bytes; anything this large is garbage, and parsing it would grow the
// parser's buffers for good.
constexpr std::size_t max_body_size = 1 << 20;

// Problems quote at most this much of the offending value.
constexpr std::size_t max_quoted_size = 40;

enum field_bit : unsigned {
  line_id_bit = 1,
  device_id_bit = 2,
  sensor_id_bit = 4,
  reading_bit = 8,
  timestamp_bit = 16,
  required_bits = 31,
};

using problem = std::optional<error>;

error invalid_json(simdjson::error_code code) {
  return error{std::string("not valid JSON: ") + simdjson::error_message(code)};
}

/// `text` cut to at most `max_quoted_size` bytes, never inside a UTF-8 sequence (the body is
/// valid UTF-8, and so must be the problem quoting it).
std::string_view shortened(std::string_view text) {
  if (text.size() <= max_quoted_size)
    return text;
  std::size_t size = max_quoted_size;
  while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xc0) == 0x80)
    --size;  // text[size] continues a character that began before it
  return text.substr(0, size);
}

/// The value as it was written, for error messages: `1.5`, `"abc"`, `true`, `an object`.
std::string describe(ondemand::json_type type, std::string_view token) {
  if (type == ondemand::json_type::object)
    return "an object";
  if (type == ondemand::json_type::array)
    return "an array";
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' ||
                            token.back() == '\n' || token.back() == '\r'))
    token.remove_suffix(1);
  // The raw token runs to the next structural character, so a malformed one may hold spaces,
  // line breaks or control bytes, none of which belongs in a one-line error: it is cut there.
  const auto end = std::find_if(token.begin(), token.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
  });
  const std::string_view shown =
      shortened(token.substr(0, static_cast<std::size_t>(end - token.begin())));
  return shown.size() < token.size() ? std::string(shown) + "..." : std::string(shown);
}

/// `text` as a JSON string, shortened to `max_quoted_size` bytes.
std::string quote(std::string_view text) {
  std::string out;
  const std::string_view shown = shortened(text);
  append_json_string(out, shown);
  if (shown.size() < text.size())
    out.insert(out.size() - 1, "...");
  return out;
}

error bad_id(std::string_view name, ondemand::json_type type, std::string_view token) {
  std::string message = "\"";
  message.append(name).append("\" must be an integer or a string, got ");
  return error{message.append(describe(type, token))};
}

/// A decimal number spelled out in full, finite: what a numeric-string reading may hold.
bool parse_decimal(std::string_view text, double& out) noexcept {
  const char* last = text.data() + text.size();
  const auto [end, status] = std::from_chars(text.data(), last, out);
  return !text.empty() && status == std::errc{} && end == last && std::isfinite(out);
}

// The readers below are forced inline, and hand the value's address to nothing that is not:
// once `value` escapes, GCC keeps the on-demand iterator in memory and every field pays
// store-forwarding stalls (measured: ~60 ns per field, three times the whole parse).

[[gnu::always_inline]] inline problem read_id(ondemand::value& value, ondemand::json_type type,
                                              std::string_view name, json_id& out) {
  if (type == ondemand::json_type::number) {
    std::int64_t number = 0;
    if (value.get_int64().get(number) == simdjson::SUCCESS) {
      out.value.emplace<std::int64_t>(number);
      return std::nullopt;
    }
  } else if (type == ondemand::json_type::string) {
    std::string_view text;
    if (auto code = value.get_string().get(text))
      return invalid_json(code);
    out.value.emplace<std::string>(text);
    return std::nullopt;
  }
  return bad_id(name, type, value.raw_json_token());
}

[[gnu::always_inline]] inline problem read_value(ondemand::value& value,
                                                 ondemand::json_type type, double& out) {
  if (type == ondemand::json_type::number) {
    if (value.get_double().get(out) == simdjson::SUCCESS && std::isfinite(out))
      return std::nullopt;
    return error{"\"reading\" is out of range: " + describe(type, value.raw_json_token())};
  }
  if (type == ondemand::json_type::string) {
    std::string_view text;
    if (auto code = value.get_string().get(text))
      return invalid_json(code);
    if (parse_decimal(text, out))
      return std::nullopt;
    return error{"\"reading\" is not a number: " + quote(text)};
  }
  return error{"\"reading\" must be a number or a numeric string, got " +
               describe(type, value.raw_json_token())};
}

problem store_epoch_ms(std::int64_t ms, timestamp_text& out) {
  auto text = timestamp_from_epoch_ms(ms);
  if (!text)
    return error{"\"timestamp\" is out of range (years 0000..9999): " + std::to_string(ms)};
  out = *text;
  return std::nullopt;
}

[[gnu::always_inline]] inline problem read_timestamp(ondemand::value& value,
                                                     ondemand::json_type type, timestamp_text& out) {
  if (type == ondemand::json_type::string) {
    std::string_view text;
    if (auto code = value.get_string().get(text))
      return invalid_json(code);
    // The form checkpoints keep as numbers is ISO 8601 too: read as numbers once, here.
    const auto utc = parse_utc_timestamp(text);
    if (!utc && !is_iso8601_date_time(text))
      return error{"\"timestamp\" is not an ISO 8601 date-time: " + quote(text)};
    out.assign(text, utc);
    return std::nullopt;
  }
  if (type == ondemand::json_type::number) {
    std::int64_t ms = 0;
    if (value.get_int64().get(ms) == simdjson::SUCCESS)
      return store_epoch_ms(ms, out);
  }
  return error{"\"timestamp\" must be an ISO 8601 string or integer epoch milliseconds, got " +
               describe(type, value.raw_json_token())};
}

[[gnu::always_inline]] inline void read_type(ondemand::value& value, ondemand::json_type type,
                                             std::optional<std::string>& out) {
  std::string_view text;
  if (type == ondemand::json_type::string && value.get_string().get(text) == simdjson::SUCCESS)
    out.emplace(text);
  else
    out.reset();
}

/// Why a document that is not an object is rejected: JSON of another type, or not JSON.
error not_an_object(ondemand::document& document) {
  ondemand::json_type type;
  if (auto code = document.type().get(type))
    return invalid_json(code);
  simdjson::error_code code = simdjson::SUCCESS;
  switch (type) {
    case ondemand::json_type::string: {
      std::string_view text;
      code = document.get_string().get(text);
      break;
    }
    case ondemand::json_type::number: {
      double number = 0;
      code = document.get_double().get(number);
      break;
    }
    case ondemand::json_type::boolean: {
      bool flag = false;
      code = document.get_bool().get(flag);
      break;
    }
    case ondemand::json_type::null: {
      bool is_null = false;
      code = document.is_null().get(is_null);
      if (code == simdjson::SUCCESS && !is_null)
        code = simdjson::N_ATOM_ERROR;
      break;
    }
    default: break;
  }
  return code == simdjson::SUCCESS ? error{"not a JSON object"} : invalid_json(code);
}

error too_large(std::size_t size) {
  return error{"message is too large: " + std::to_string(size) + " bytes (at most " +
               std::to_string(max_body_size) + ")"};
}

const char* field_name(unsigned bit) noexcept {
  switch (bit) {
    case line_id_bit: return "line_id";
    case device_id_bit: return "device_id";
    case sensor_id_bit: return "sensor_id";
    case reading_bit: return "reading";
    default: return "timestamp";
  }
}

} // namespace

struct reading_parser::state {
  ondemand::parser parser;
  std::unique_ptr<char[]> scratch;
  std::size_t scratch_capacity = 0;

  expected<void> parse(simdjson::padded_string_view json, reading& out);
};

expected<void> reading_parser::state::parse(simdjson::padded_string_view json, reading& out) {
  ondemand::document document;
  if (auto code = parser.iterate(json).get(document))
    return invalid_json(code);
  ondemand::object object;
  if (auto code = document.get_object().get(object))
    return code == simdjson::INCORRECT_TYPE ? not_an_object(document) : invalid_json(code);
  unsigned seen = 0;
  for (auto element : object) {
    ondemand::raw_json_string key;
    ondemand::value value;
    ondemand::json_type type;
    if (auto code = element.key().get(key))
      return invalid_json(code);
    if (auto code = element.value().get(value))
      return invalid_json(code);
    if (auto code = value.type().get(type))
      return invalid_json(code);
    // Each reader's problem returned as it comes: an optional<error> assigned per field cost a
    // move of an empty one for every field of every reading.
    if (key == "reading") {
      seen |= reading_bit;
      if (auto failure = read_value(value, type, out.value))
        return std::move(*failure);
    } else if (key == "sensor_id") {
      seen |= sensor_id_bit;
      if (auto failure = read_id(value, type, "sensor_id", out.key.sensor_id))
        return std::move(*failure);
    } else if (key == "device_id") {
      seen |= device_id_bit;
      if (auto failure = read_id(value, type, "device_id", out.key.device_id))
        return std::move(*failure);
    } else if (key == "line_id") {
      seen |= line_id_bit;
      if (auto failure = read_id(value, type, "line_id", out.key.line_id))
        return std::move(*failure);
    } else if (key == "timestamp") {
      seen |= timestamp_bit;
      if (auto failure = read_timestamp(value, type, out.timestamp))
        return std::move(*failure);
    } else if (key == "type") {
      read_type(value, type, out.type);
    }
  }
  if (document.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return error{"not valid JSON: content after the object"};
  if (seen != required_bits) {
    for (unsigned bit = 1; bit < required_bits; bit <<= 1)
      if ((seen & bit) == 0)
        return error{std::string("missing field \"") + field_name(bit) + "\""};
  }
  return {};
}

reading_parser::reading_parser() : state_(std::make_unique<state>()) {}
reading_parser::~reading_parser() = default;
reading_parser::reading_parser(reading_parser&&) noexcept = default;
reading_parser& reading_parser::operator=(reading_parser&&) noexcept = default;

namespace {

/// parse, from parse_into: one way to fill a reading for both kinds of body.
template <class Body>
expected<reading> parse_whole(reading_parser& parser, const Body& body) {
  reading out;
  if (auto parsed = parser.parse_into(body, out); !parsed)
    return parsed.err();
  return out;
}

} // namespace

expected<reading> reading_parser::parse(const std::string& body) {
  return parse_whole(*this, body);
}

expected<reading> reading_parser::parse(std::string_view body) {
  return parse_whole(*this, body);
}

expected<void> reading_parser::parse_into(const std::string& body, reading& out) {
  if (body.size() > max_body_size)
    return too_large(body.size());
  if (body.capacity() - body.size() >= reading_padding)
    return state_->parse(simdjson::padded_string_view(body.data(), body.size(), body.capacity()), out);
  return parse_into(std::string_view{body}, out);
}

expected<void> reading_parser::parse_into(std::string_view body, reading& out) {
  if (body.size() > max_body_size)
    return too_large(body.size());
  const std::size_t needed = body.size() + reading_padding;
  if (state_->scratch_capacity < needed) {
    const std::size_t capacity = std::max(needed, 2 * state_->scratch_capacity);
    state_->scratch = std::make_unique<char[]>(capacity);
    state_->scratch_capacity = capacity;
  }
  if (!body.empty())
    std::memcpy(state_->scratch.get(), body.data(), body.size());
  // simdjson reads the first padding byte: a '}' there makes it check the brackets' balance
  // before anything else (simdjson issue 1834), and the scratch holds the previous body's
  // bytes. A '\0', as after a std::string's last character, makes every call judge a body as
  // the in-place parse does, whatever was parsed before.
  state_->scratch[body.size()] = '\0';
  return state_->parse(
      simdjson::padded_string_view(state_->scratch.get(), body.size(), state_->scratch_capacity), out);
}

} // namespace telluride
