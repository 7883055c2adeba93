#include "telluride/telemetry/host_cpu.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>

namespace telluride {

namespace {

// /proc/stat is a few KiB even with hundreds of cores; anything larger is not it.
constexpr std::size_t max_stat_bytes = 1 << 20;
constexpr std::size_t stat_chunk_bytes = 16 * 1024;

bool is_core_line(std::string_view line) {
  return line.size() > 3 && line.starts_with("cpu") && line[3] >= '0' && line[3] <= '9';
}

/// The first 8 numbers after the line's name: user nice system idle iowait irq softirq steal.
std::optional<core_ticks> parse_core_line(std::string_view line) {
  std::array<std::uint64_t, 8> fields{};
  auto rest = line.substr(line.find(' ') == std::string_view::npos ? line.size() : line.find(' '));
  for (auto& field : fields) {
    auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos)
      return std::nullopt;
    rest.remove_prefix(start);
    auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), field);
    if (error != std::errc{} || (end != rest.data() + rest.size() && *end != ' '))
      return std::nullopt;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
  }
  const auto [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  core_ticks ticks;
  ticks.busy = user + nice + system + irq + softirq + steal;
  ticks.total = ticks.busy + idle + iowait;
  return ticks;
}

} // namespace

std::optional<std::vector<core_ticks>> parse_proc_stat(std::string_view text) {
  std::vector<core_ticks> cores;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!is_core_line(line))
      continue;
    auto ticks = parse_core_line(line);
    if (!ticks)
      return std::nullopt;
    cores.push_back(*ticks);
  }
  return cores;
}

std::vector<double> core_busy_percent(const std::vector<core_ticks>& before, const std::vector<core_ticks>& now) {
  std::vector<double> percent;
  if (before.size() != now.size())
    return percent;
  percent.reserve(now.size());
  for (std::size_t i = 0; i < now.size(); ++i) {
    const auto& a = before[i];
    const auto& b = now[i];
    if (b.total <= a.total || b.busy < a.busy || b.busy - a.busy > b.total - a.total) {
      percent.push_back(0.0);
      continue;
    }
    percent.push_back(100.0 * static_cast<double>(b.busy - a.busy) / static_cast<double>(b.total - a.total));
  }
  return percent;
}

host_cpu_meter::host_cpu_meter(std::string path) : path_(std::move(path)) {}

std::vector<double> host_cpu_meter::sample() {
  // Read in chunks into a kept buffer: the file is a few KiB, and a buffer of the largest size
  // allowed, made and zeroed per sample, cost more than everything else the live feed does.
  std::ifstream file{path_, std::ios::binary};
  std::string& text = text_;
  text.clear();
  if (file) {
    std::array<char, stat_chunk_bytes> chunk;
    while (text.size() < max_stat_bytes) {
      file.read(chunk.data(), static_cast<std::streamsize>(std::min(chunk.size(), max_stat_bytes - text.size())));
      text.append(chunk.data(), static_cast<std::size_t>(file.gcount()));
      if (!file)
        break;
    }
  }
  auto now = file.bad() || text.empty() ? std::nullopt : parse_proc_stat(text);
  std::vector<double> percent;
  if (now && previous_)
    percent = core_busy_percent(*previous_, *now);
  previous_ = std::move(now);
  return percent;
}

} // namespace telluride
