#include "telluride/domain/compact_sensor_key.hpp"

namespace telluride {

namespace {

bool has_strings(const sensor_key& key) noexcept {
  return !key.line_id.is_integer() || !key.device_id.is_integer() || !key.sensor_id.is_integer();
}

/// hash_value(json_id) of an integer id.
std::uint64_t integer_hash(std::int64_t id) noexcept {
  return hash_value(json_id{id});
}

} // namespace

compact_sensor_key::compact_sensor_key(const sensor_key& key) {
  if (has_strings(key)) {
    with_strings_ = std::make_unique<const sensor_key>(key);
    return;
  }
  ids_[0] = key.line_id.integer();
  ids_[1] = key.device_id.integer();
  ids_[2] = key.sensor_id.integer();
}

compact_sensor_key::compact_sensor_key(const compact_sensor_key& other)
  : ids_{other.ids_[0], other.ids_[1], other.ids_[2]},
    with_strings_(other.with_strings_ ? std::make_unique<const sensor_key>(*other.with_strings_) : nullptr) {}

compact_sensor_key& compact_sensor_key::operator=(const compact_sensor_key& other) {
  if (this != &other)
    *this = compact_sensor_key{other};
  return *this;
}

sensor_key compact_sensor_key::key() const {
  if (with_strings_)
    return *with_strings_;
  return sensor_key{json_id{ids_[0]}, json_id{ids_[1]}, json_id{ids_[2]}};
}

std::uint64_t compact_sensor_key::hash() const noexcept {
  if (with_strings_)
    return hash_value(*with_strings_);
  return hash_combine(hash_combine(integer_hash(ids_[0]), integer_hash(ids_[1])), integer_hash(ids_[2]));
}

bool compact_sensor_key::operator==(const sensor_key& key) const noexcept {
  if (with_strings_)
    return *with_strings_ == key;
  return key.line_id.is_integer() && key.device_id.is_integer() && key.sensor_id.is_integer() &&
         key.line_id.integer() == ids_[0] && key.device_id.integer() == ids_[1] &&
         key.sensor_id.integer() == ids_[2];
}

bool compact_sensor_key::operator==(const compact_sensor_key& other) const noexcept {
  if (with_strings_ || other.with_strings_)
    return with_strings_ && other.with_strings_ && *with_strings_ == *other.with_strings_;
  return ids_[0] == other.ids_[0] && ids_[1] == other.ids_[1] && ids_[2] == other.ids_[2];
}

void append_json_fields(std::string& out, const compact_sensor_key& key) {
  if (key.with_strings_) {
    append_json_fields(out, *key.with_strings_);
    return;
  }
  out += "\"line_id\":";
  append_json_integer(out, key.ids_[0]);
  out += ",\"device_id\":";
  append_json_integer(out, key.ids_[1]);
  out += ",\"sensor_id\":";
  append_json_integer(out, key.ids_[2]);
}

std::string to_string(const compact_sensor_key& key) {
  return to_string(key.key());
}

} // namespace telluride
