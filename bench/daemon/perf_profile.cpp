#include "daemon/perf_profile.hpp"

#include "support/rounding.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>

namespace daemon_bench {

using bench::round_to;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// "12.34%  rest" → (12.34, "rest"); false for anything else.
bool split_percent(std::string_view line, double& percent, std::string_view& rest) {
  line = trim(line);
  auto sign = line.find('%');
  if (line.empty() || line.front() == '#' || sign == std::string_view::npos)
    return false;
  std::string number{line.substr(0, sign)};
  char* end = nullptr;
  percent = std::strtod(number.c_str(), &end);
  if (end == number.c_str() || *end != '\0')
    return false;
  rest = trim(line.substr(sign + 1));
  return true;
}

template <class Each>
void for_each_line(std::string_view text, Each each) {
  while (!text.empty()) {
    auto eol = text.find('\n');
    each(text.substr(0, eol));
    if (eol == std::string_view::npos)
      break;
    text.remove_prefix(eol + 1);
  }
}

bool contains_any(std::string_view s, std::initializer_list<std::string_view> parts) {
  for (auto p : parts)
    if (s.find(p) != std::string_view::npos)
      return true;
  return false;
}

causeway::expected<std::string> run_report(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe{::popen(command.c_str(), "r"), ::pclose};
  if (!pipe)
    return causeway::error{"cannot run: " + command};
  std::string out;
  std::array<char, 65536> buffer;
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe.get()))
    out.append(buffer.data(), n);
  int status = ::pclose(pipe.release());
  if (status != 0)
    return causeway::error{"perf report failed (status " + std::to_string(status) + "): " + command};
  return out;
}

} // namespace

std::vector<profile_line> parse_symbol_report(std::string_view text) {
  std::vector<profile_line> out;
  for_each_line(text, [&](std::string_view line) {
    profile_line p;
    std::string_view rest;
    if (!split_percent(line, p.percent, rest))
      return;
    auto space = rest.find_first_of(" \t");
    p.dso = std::string{rest.substr(0, space)};
    rest = space == std::string_view::npos ? std::string_view{} : trim(rest.substr(space));
    // "[.] symbol" (user space) or "[k] symbol" (kernel)
    if (rest.size() >= 3 && rest.front() == '[' && rest[2] == ']') {
      if (rest[1] == 'k' && p.dso == "[unknown]")
        p.dso = "[kernel.kallsyms]";
      rest = trim(rest.substr(3));
    }
    p.symbol = std::string{rest};
    out.push_back(std::move(p));
  });
  return out;
}

std::string kernel_entry_of(const std::vector<stack_frame>& frames) {
  if (frames.empty() || !frames.front().kernel)
    return {};
  for (const auto& frame : frames) {
    if (!frame.kernel)
      break;  // the user-space frames below the kernel's
    const std::string_view sym = frame.symbol;
    if (sym == "asm_exc_page_fault" || sym == "exc_page_fault")
      return "page fault";
    if (sym.starts_with("asm_sysvec_") || sym.starts_with("sysvec_") || sym == "asm_common_interrupt" ||
        sym == "common_interrupt")
      return "interrupt";
    for (std::string_view prefix : {"__x64_sys_", "__ia32_sys_", "__se_sys_", "__do_sys_"})
      if (sym.starts_with(prefix) && sym.size() > prefix.size())
        return std::string{sym.substr(prefix.size())};
  }
  return "other";
}

std::map<std::string, thread_kernel> parse_script_samples(std::string_view text) {
  std::map<std::string, thread_kernel> out;
  std::string tid;
  std::vector<stack_frame> frames;  // views into `text`
  auto finish = [&] {
    if (!tid.empty()) {
      thread_kernel& t = out[tid];
      ++t.samples;
      if (auto entry = kernel_entry_of(frames); !entry.empty()) {
        ++t.kernel;
        ++t.entries[entry];
      }
    }
    tid.clear();
    frames.clear();
  };
  for_each_line(text, [&](std::string_view line) {
    const bool is_frame = !line.empty() && line.front() == '\t';
    line = trim(line);
    if (line.empty() || !is_frame) {
      finish();
      if (!line.empty())
        tid = std::string{line.substr(0, line.find_first_of(" \t"))};
      return;
    }
    // "ffffffff8133c639 pvm_write_msr" or "1cc345 causeway::...": kernel addresses are the top half.
    const auto space = line.find_first_of(" \t");
    const std::string_view address = line.substr(0, space);
    frames.push_back({address.size() == 16 && address.front() >= '8',
                      space == std::string_view::npos ? std::string_view{} : trim(line.substr(space))});
  });
  finish();
  return out;
}

std::vector<std::pair<std::string, double>> parse_thread_report(std::string_view text) {
  std::vector<std::pair<std::string, double>> out;
  for_each_line(text, [&](std::string_view line) {
    double percent = 0;
    std::string_view rest;
    if (split_percent(line, percent, rest))
      out.emplace_back(std::string{rest}, percent);
  });
  return out;
}

std::string sample_count(std::string_view text) {
  std::string out;
  for_each_line(text, [&](std::string_view line) {
    constexpr std::string_view key = "# Samples: ";
    if (out.empty() && line.starts_with(key)) {
      auto rest = line.substr(key.size());
      out = std::string{rest.substr(0, rest.find(' '))};
    }
  });
  return out;
}

std::string group_of(const profile_line& line, std::string_view program) {
  const std::string_view dso = line.dso;
  const std::string_view sym = line.symbol;
  if (dso == program || dso.starts_with("libsimdjson"))
    return "telluride";
  if (dso.starts_with("libc.so") || dso.starts_with("libc-")) {
    if (contains_any(sym, {"malloc", "free", "_int_", "unlink_chunk", "tcache", "calloc", "realloc", "memalign",
                           "arena_", "sysmalloc", "consolidate"}))
      return "libc malloc/free";
    return "libc other";
  }
  if (dso.starts_with("[kernel") || dso.starts_with("[guest.kernel"))
    return "kernel";
  if (dso.starts_with("libcaf_"))
    return "CAF";
  if (dso.starts_with("librabbitmq"))
    return "rabbitmq-c";
  if (dso.starts_with("libuv"))
    return "libuv";
  if (dso.starts_with("libstdc++"))
    return "libstdc++";
  if (dso == "[vdso]")
    return "vdso";
  return "other";
}

std::vector<std::pair<std::string, double>> group_shares(const std::vector<profile_line>& lines,
                                                         std::string_view program) {
  std::map<std::string, double> sums;
  for (const char* g : {"telluride", "libc malloc/free", "libc other", "kernel", "CAF", "rabbitmq-c", "libuv",
                        "libstdc++", "vdso", "other"})
    sums[g] = 0;
  for (const auto& line : lines)
    sums[group_of(line, program)] += line.percent;
  std::vector<std::pair<std::string, double>> out(sums.begin(), sums.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

causeway::expected<profile_summary> profile(const std::string& perf, const std::string& perf_data,
                                            std::string_view program, std::size_t top) {
  const std::string common = perf + " report -i '" + perf_data + "' --stdio --no-children -g none --percent-limit 0 ";
  auto symbols = run_report(common + "--sort dso,sym 2>/dev/null");
  if (!symbols)
    return symbols.err();
  auto threads = run_report(common + "--sort pid 2>/dev/null");
  if (!threads)
    return threads.err();
  auto chains = run_report(perf + " script -i '" + perf_data + "' -F tid,ip,sym 2>/dev/null");
  if (!chains)
    return chains.err();
  profile_summary out;
  out.samples = sample_count(*symbols);
  auto lines = parse_symbol_report(*symbols);
  if (lines.empty())
    return causeway::error{"perf report listed no samples in " + perf_data};
  out.groups = group_shares(lines, program);
  lines.resize(std::min(lines.size(), top));
  out.top = std::move(lines);
  auto by_tid = parse_script_samples(*chains);
  std::size_t all = 0;
  std::map<std::string, std::size_t> entries;
  for (const auto& [tid, t] : by_tid) {
    all += t.samples;
    for (const auto& [entry, n] : t.entries)
      entries[entry] += n;
  }
  for (auto& [name, percent] : parse_thread_report(*threads)) {
    // "TID:comm", or ":TID" when perf missed the name
    const auto colon = name.find(':');
    std::string tid = colon == 0 ? name.substr(1) : name.substr(0, colon);
    const auto found = by_tid.find(tid);
    out.threads.push_back({std::move(tid), std::move(name), percent,
                           found != by_tid.end() ? found->second : thread_kernel{}});
  }
  for (const auto& [entry, n] : entries)
    out.kernel_entries.emplace_back(entry, all > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(all) : 0.0);
  std::stable_sort(out.kernel_entries.begin(), out.kernel_entries.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

namespace {

/// "recvfrom 15, epoll_wait 12, page fault 3": a thread's largest kernel entries, in percent of
/// its samples, at most `most` of them.
std::string largest_entries(const thread_kernel& t, std::size_t most) {
  std::vector<std::pair<std::string, std::size_t>> entries(t.entries.begin(), t.entries.end());
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (std::size_t i = 0; i < entries.size() && i < most; ++i) {
    char part[96];
    std::snprintf(part, sizeof part, "%s%s %.0f", out.empty() ? "" : ", ", entries[i].first.c_str(),
                  100.0 * static_cast<double>(entries[i].second) / static_cast<double>(t.samples));
    out += part;
  }
  return out;
}

} // namespace

nlohmann::json print_profile(const profile_summary& summary) {
  std::printf("perf: %s samples of the daemon while it drained; self time by group:\n", summary.samples.c_str());
  auto groups = nlohmann::json::object();
  for (const auto& [name, percent] : summary.groups) {
    std::printf("  %-18s %5.1f %%\n", name.c_str(), percent);
    groups[name] = round_to(percent, 2);
  }
  std::printf("the kernel's share by how it was entered (system call, page fault, interrupt):\n");
  auto entries = nlohmann::json::object();
  for (const auto& [entry, percent] : summary.kernel_entries) {
    if (percent >= 0.1)
      std::printf("  %-18s %5.1f %%\n", entry.c_str(), percent);
    entries[entry] = round_to(percent, 2);
  }
  std::printf("by thread, and the kernel's part of each (in %% of the thread's samples, its largest entries):\n");
  auto threads = nlohmann::json::object();
  auto threads_kernel = nlohmann::json::object();
  for (const auto& t : summary.threads) {
    const double kernel = t.kernel.samples > 0 ? 100.0 * static_cast<double>(t.kernel.kernel) / static_cast<double>(t.kernel.samples) : 0.0;
    std::printf("  %-18s %5.1f %%   kernel %3.0f %%  %s\n", t.name.c_str(), t.percent, kernel,
                largest_entries(t.kernel, 4).c_str());
    threads[t.name] = round_to(t.percent, 2);
    threads_kernel[t.name] = round_to(kernel, 1);
  }
  std::printf("top symbols (self time):\n");
  auto top = nlohmann::json::array();
  for (const auto& line : summary.top) {
    std::printf("  %5.2f %%  %-22s %s\n", line.percent, line.dso.c_str(), line.symbol.substr(0, 140).c_str());
    top.push_back(nlohmann::json{{"percent", round_to(line.percent, 2)}, {"dso", line.dso}, {"symbol", line.symbol.substr(0, 200)}});
  }
  return {{"samples", summary.samples},
          {"groups", groups},
          {"threads", threads},
          {"threads_kernel_percent", threads_kernel},
          {"kernel_entries", entries},
          {"top", top}};
}

} // namespace daemon_bench
