#include "telluride/domain/sensor_aggregate.hpp"

#include "telluride/domain/json_text.hpp"

namespace telluride {

void append_json(std::string& out, const sensor_aggregate& aggregate) {
  const running_stats& stats = aggregate.stats;
  out += '{';
  append_json_fields(out, aggregate.key);
  out += ",\"total_reads\":";
  append_json_unsigned(out, stats.count());
  out += ",\"min\":";
  append_json_number(out, stats.min());
  out += ",\"max\":";
  append_json_number(out, stats.max());
  out += ",\"mean\":";
  append_json_number(out, stats.mean());
  out += ",\"stddev\":";
  append_json_number(out, stats.stddev());
  out += ",\"last_reading\":";
  append_json_number(out, aggregate.last_reading);
  out += ",\"last_timestamp\":";
  append_json_string(out, aggregate.last_timestamp.view());
  out += '}';
}

std::string to_json_text(const sensor_aggregate& aggregate) {
  std::string out;
  out.reserve(256);
  append_json(out, aggregate);
  return out;
}

} // namespace telluride
