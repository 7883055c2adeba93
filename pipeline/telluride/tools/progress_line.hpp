// progress_line.hpp — a tool's progress on stderr: one line redrawn in place on a terminal,
// plain periodic lines otherwise (logs, pipes, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace telluride::tools {

class progress_line {
public:
  using clock = std::chrono::steady_clock;

  /// `enabled` false prints nothing. On a TTY the line is redrawn every `tty_interval`,
  /// elsewhere a line starting with `plain_prefix` is written every `plain_interval`.
  progress_line(bool enabled, std::string plain_prefix, clock::time_point now,
                std::chrono::milliseconds tty_interval = std::chrono::milliseconds(250),
                std::chrono::milliseconds plain_interval = std::chrono::milliseconds(5000));

  /// True when a line is due at `now`: build it only then.
  bool is_due(clock::time_point now) const noexcept;
  /// Shows `text` (no newline in it) and restarts the interval.
  void show(std::string_view text, clock::time_point now);
  /// Ends the in-place line (newline) before other output: call before the summary.
  void finish();

private:
  bool enabled_;
  bool is_tty_;
  bool line_open_ = false;
  std::string plain_prefix_;
  clock::duration interval_;
  clock::time_point next_;
};

/// `1234567` → `1,234,567`.
std::string with_thousands(std::uint64_t value);

} // namespace telluride::tools
