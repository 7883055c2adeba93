#include "support/reading_fleet.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <numbers>

namespace bench {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double unit(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

struct profile {
  const char* type;
  double mean_min, mean_max, stddev_min, stddev_max;
};

constexpr profile profiles[] = {{"temperature", 18.0, 32.0, 0.3, 2.0},
                                {"humidity", 35.0, 65.0, 1.0, 4.0},
                                {"pressure", 1.0, 8.0, 0.02, 0.2},
                                {"vibration", 1.0, 6.0, 0.1, 1.0}};

// 2021-02-12T01:18:51.838675Z plus one millisecond per reading.
std::string timestamp(std::size_t index) {
  constexpr std::int64_t base_us = 1613092731838675;
  std::int64_t us = base_us + static_cast<std::int64_t>(index) * 1000;
  std::time_t seconds = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[40];
  auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%06lldZ", static_cast<long long>(us % 1000000));
  return text;
}

} // namespace

reading_fleet::reading_fleet(std::size_t count) {
  sensors_.reserve(count);
  for (std::size_t n = 0; n < count; ++n) {
    const auto& p = profiles[n % 4];
    sensor s;
    s.prefix = "{\"line_id\":" + std::to_string(n / 100 + 1) + ",\"device_id\":" + std::to_string(n / 10 + 1) +
               ",\"sensor_id\":" + std::to_string(n + 1) + ",\"reading\":";
    s.suffix = std::string{"\",\"type\":\""} + p.type + "\"}";
    s.mean = p.mean_min + unit(splitmix64(n * 2)) * (p.mean_max - p.mean_min);
    s.stddev = p.stddev_min + unit(splitmix64(n * 2 + 1)) * (p.stddev_max - p.stddev_min);
    sensors_.push_back(std::move(s));
  }
}

void reading_fleet::fill(std::size_t index, const std::string& id_prefix, causeway::amqp::outgoing_message& msg) const {
  const auto& s = sensors_[index % sensors_.size()];
  // Box-Muller from two uniforms drawn from the index.
  double u1 = std::max(unit(splitmix64(index ^ (0xa5a5a5a5ULL << 32))), 1e-12);
  double u2 = unit(splitmix64(index + 0x5bd1e995ULL));
  double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  char value[32];
  std::snprintf(value, sizeof value, "%.4f", s.mean + s.stddev * z);
  msg.body.clear();
  msg.body.reserve(160);
  msg.body += s.prefix;
  msg.body += value;
  msg.body += ",\"timestamp\":\"";
  msg.body += timestamp(index);
  msg.body += s.suffix;
  msg.properties.content_type = "application/json";
  msg.properties.message_id = id_prefix + std::to_string(index);
  msg.properties.persistent = true;
}

} // namespace bench
