#include "telluride/tools/sensor_fleet.hpp"

#include "telluride/domain/json_text.hpp"
#include "telluride/domain/sensor_key.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <numbers>

namespace telluride::tools {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

// A seed for stream `purpose` of sensor `index`: independent streams per sensor and purpose.
std::uint64_t stream_seed(std::uint64_t seed, std::size_t index, std::uint64_t purpose) {
  std::uint64_t state = seed;
  std::uint64_t a = splitmix64(state);
  state = a ^ (static_cast<std::uint64_t>(index) * 0xd1b54a32d192ed03ULL) ^ (purpose << 56);
  return splitmix64(state);
}

constexpr std::array<sensor_type_profile, 4> profiles = {{
  {"temperature", "°C", 18.0, 32.0, 0.3, 2.0},
  {"humidity", "%", 35.0, 65.0, 1.0, 4.0},
  {"pressure", "bar", 1.0, 8.0, 0.02, 0.2},
  {"vibration", "mm/s", 1.0, 6.0, 0.1, 1.0},
}};

const sensor_type_profile* find_profile(std::string_view name) {
  for (const auto& p : profiles)
    if (p.name == name)
      return &p;
  return nullptr;
}

double round4(double value) { return std::round(value * 1e4) / 1e4; }

void append_number(std::string& out, double value) {
  char text[32];
  auto [end, status] = std::to_chars(text, text + sizeof text, value);
  out.append(text, status == std::errc{} ? end : text);
}

void append_digits(char*& at, std::int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  at += width;
}

} // namespace

random_stream::random_stream(std::uint64_t seed) {
  for (auto& word : s_)
    word = splitmix64(seed);
}

std::uint64_t random_stream::next() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double random_stream::uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double random_stream::normal() noexcept {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0)
    u1 = uniform();
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_ = radius * std::sin(angle);
  has_spare_ = true;
  return radius * std::cos(angle);
}

std::span<const sensor_type_profile> sensor_type_profiles() noexcept { return profiles; }

expected<sensor_fleet> sensor_fleet::create(const fleet_options& options) {
  std::vector<const sensor_type_profile*> types;
  for (const auto& name : options.types) {
    const auto* profile = find_profile(name);
    if (profile == nullptr) {
      std::string known;
      for (const auto& p : profiles)
        known += (known.empty() ? "" : ", ") + std::string(p.name);
      return error{"unknown sensor type \"" + name + "\"; known types: " + known};
    }
    types.push_back(profile);
  }
  if (types.empty())
    for (const auto& p : profiles)
      types.push_back(&p);

  auto threshold_of = [&](std::string_view type) {
    if (auto found = options.thresholds.find(type); found != options.thresholds.end())
      return found->second;
    if (auto found = options.thresholds.find("default"); found != options.thresholds.end())
      return found->second;
    return 100.0;
  };

  sensor_fleet fleet;
  fleet.sensors_.reserve(options.count);
  fleet.streams_.reserve(options.count);
  for (std::size_t i = 0; i < options.count; ++i) {
    random_stream draw(stream_seed(options.seed, i, 1));
    const auto& profile = *types[draw.next() % types.size()];
    simulated_sensor s;
    const auto line = static_cast<std::int64_t>(i / 100 + 1);
    const auto device = static_cast<std::int64_t>(i / 10 + 1);
    const auto number = static_cast<std::int64_t>(i + 1);
    if (i % 3 == 2) {
      s.line_id = json_id{"line-" + std::to_string(line)};
      s.device_id = json_id{"device-" + std::to_string(device)};
      s.sensor_id = json_id{"sensor-" + std::to_string(number)};
    } else {
      s.line_id = json_id{line};
      s.device_id = json_id{device};
      s.sensor_id = json_id{number};
    }
    s.type = std::string(profile.name);
    s.stddev = profile.stddev_min + draw.uniform() * (profile.stddev_max - profile.stddev_min);
    s.mean = profile.mean_min + draw.uniform() * (profile.mean_max - profile.mean_min);
    s.is_hot = draw.uniform() < options.hot_share;
    if (s.is_hot)
      s.mean = threshold_of(s.type) - 0.5 * s.stddev;

    std::string prefix = "{";
    append_json(prefix += "\"line_id\":", s.line_id);
    append_json(prefix += ",\"device_id\":", s.device_id);
    append_json(prefix += ",\"sensor_id\":", s.sensor_id);
    prefix += ",\"reading\":";
    std::string suffix = ",\"type\":";
    append_json_string(suffix, s.type);
    suffix += '}';

    fleet.key_texts_.push_back(telluride::sensor_key_text(sensor_key{s.line_id, s.device_id, s.sensor_id}));
    fleet.prefixes_.push_back(std::move(prefix));
    fleet.suffixes_.push_back(std::move(suffix));
    fleet.sensors_.push_back(std::move(s));
    fleet.streams_.emplace_back(stream_seed(options.seed, i, 2));
  }
  return fleet;
}

double sensor_fleet::next_value(std::size_t index) {
  const auto& s = sensors_[index];
  return round4(s.mean + s.stddev * streams_[index].normal());
}

void sensor_fleet::append_reading(std::string& out, std::size_t index, double value,
                                  std::string_view timestamp) const {
  out += prefixes_[index];
  append_number(out, value);
  out += ",\"timestamp\":\"";
  out += timestamp;
  out += '"';
  out += suffixes_[index];
}

std::string iso8601_from_epoch_us(std::int64_t us) {
  std::int64_t seconds = us / 1000000;
  std::int64_t micros = us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  std::int64_t days = seconds / 86400;
  std::int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

  char text[32];
  char* at = text;
  append_digits(at, year, 4);
  *at++ = '-';
  append_digits(at, month, 2);
  *at++ = '-';
  append_digits(at, day, 2);
  *at++ = 'T';
  append_digits(at, second_of_day / 3600, 2);
  *at++ = ':';
  append_digits(at, second_of_day / 60 % 60, 2);
  *at++ = ':';
  append_digits(at, second_of_day % 60, 2);
  *at++ = '.';
  append_digits(at, micros, 6);
  *at++ = 'Z';
  return std::string(text, at);
}

} // namespace telluride::tools
