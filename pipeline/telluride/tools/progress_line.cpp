#include "telluride/tools/progress_line.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>

namespace telluride::tools {

progress_line::progress_line(bool enabled, std::string plain_prefix, clock::time_point now,
                             std::chrono::milliseconds tty_interval, std::chrono::milliseconds plain_interval)
  : enabled_(enabled),
    is_tty_(::isatty(STDERR_FILENO) == 1),
    plain_prefix_(std::move(plain_prefix)),
    interval_(is_tty_ ? tty_interval : plain_interval),
    next_(now + interval_) {}

bool progress_line::is_due(clock::time_point now) const noexcept { return enabled_ && now >= next_; }

void progress_line::show(std::string_view text, clock::time_point now) {
  next_ = now + interval_;
  if (!enabled_)
    return;
  if (is_tty_) {
    std::fprintf(stderr, "\r\033[K%.*s", static_cast<int>(text.size()), text.data());
    line_open_ = true;
  } else {
    std::fprintf(stderr, "%s%.*s\n", plain_prefix_.c_str(), static_cast<int>(text.size()), text.data());
  }
  std::fflush(stderr);
}

void progress_line::finish() {
  if (line_open_) {
    std::fputs("\n", stderr);
    std::fflush(stderr);
    line_open_ = false;
  }
}

std::string with_thousands(std::uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  const std::size_t first = digits.size() % 3;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && i >= first && (i - first) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

} // namespace telluride::tools
