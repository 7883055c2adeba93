// child_process.hpp — a program a benchmark starts, watches and stops: spawned with
// posix_spawn, its stdout and stderr appended to a log file. The destructor kills (SIGKILL)
// and reaps a child that is still running, so a benchmark that gives up leaves nothing behind.
#pragma once

#include "causeway/expected.hpp"

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace bench {

class child_process {
public:
  /// Starts `argv[0]` (a path) with `argv`, in the current environment.
  static causeway::expected<child_process> spawn(const std::vector<std::string>& argv, const std::string& log_path);

  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  pid_t pid() const noexcept { return pid_; }
  bool is_running();
  void signal(int sig) const;
  /// Waits up to `timeout` for the child to end; its wait status, or nothing on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// The last `lines` lines of the log file.
  std::string log_tail(std::size_t lines = 20) const;

private:
  child_process(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  void kill_and_reap() noexcept;
  pid_t pid_ = -1;  // -1 once reaped
  std::string log_path_;
};

/// "exit 0", "exit 1", "killed by signal 9" for a wait status.
std::string describe_status(int status);

} // namespace bench
