// e2e_process.hpp — running `telluride` (and other commands) as users do, for end-to-end
// tests: `run` waits with a timeout, `child_process` runs while the test acts. Part of
// e2e_support.hpp.
#pragma once

#include "e2e_base.hpp"
#include "sanitizer_report.hpp"

namespace e2e {

// ---------------------------------------------------------------- processes

/// The pids of `parent`'s children named `name` (the kernel's comm, at most 15 characters).
inline std::vector<pid_t> child_pids(pid_t parent, const std::string& name) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string file = entry.path().filename().string();
    if (file.empty() || file.find_first_not_of("0123456789") != std::string::npos)
      continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    // pid (comm) state ppid ...: comm may hold spaces, so split at the last ')'.
    auto open = stat.find('(');
    auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos)
      continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && stat.substr(open + 1, close - open - 1) == name.substr(0, 15))
      found.push_back(static_cast<pid_t>(std::stol(file)));
  }
  return found;
}

struct command {
  std::vector<std::string> args;                            ///< args[0] is the program path
  std::vector<std::pair<std::string, std::string>> env;     ///< set (or replaced) in the child
  std::vector<std::string> unset_env;                       ///< removed from the child's environment
  std::string cwd;                                          ///< empty: the test's own
  std::chrono::milliseconds timeout{30s};                   ///< SIGKILL after this
};

struct process_result {
  int exit_code = -1;     ///< -1 when killed by a signal
  int term_signal = 0;    ///< the signal that ended it, 0 if it exited
  bool timed_out = false;  ///< killed because it outlived its timeout
  std::string out;
  std::string err;
};

/// A running command with its stdout and stderr captured, in a process group of its own; the
/// group is killed (SIGKILL) when it outlives its timeout and when this is destroyed. A
/// sanitizer report in its stderr fails the test case. Not thread-safe: one test thread drives it.
class child_process {
public:
  explicit child_process(command cmd) : timeout_(within_budget(cmd.timeout)) {
    REQUIRE(!cmd.args.empty());
    program_ = cmd.args[0] + (cmd.args.size() > 1 ? " " + cmd.args[1] : "");
    int out_pipe[2], err_pipe[2];
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
    // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      std::string key = entry.substr(0, entry.find('='));
      bool replaced = false;
      for (const auto& [k, v] : cmd.env)
        replaced = replaced || k == key;
      for (const auto& k : cmd.unset_env)
        replaced = replaced || k == key;
      if (!replaced)
        env_strings.push_back(std::move(entry));
    }
    for (const auto& [k, v] : cmd.env)
      env_strings.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : cmd.args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_strings)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    const char* cwd = cmd.cwd.empty() ? nullptr : cmd.cwd.c_str();

    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(out_pipe[1], STDOUT_FILENO);
      ::dup2(err_pipe[1], STDERR_FILENO);
      ::setpgid(0, 0);  // its own group: signals to the test runner's group do not reach it
      if (cwd != nullptr && ::chdir(cwd) != 0)
        ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    started_ = std::chrono::steady_clock::now();
  }

  ~child_process() {
    ::kill(-pid_, SIGKILL);  // its whole group: what it started too
    if (!has_exited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (!output_finished_)
      finish_output(200ms);  // what it wrote before it was killed, for its reports
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  const std::string& out() const noexcept { return result_.out; }
  const std::string& err() const noexcept { return result_.err; }

  /// Reads output until `condition(stdout, stderr)` holds, the child exits or `timeout` passes.
  bool wait_for(const std::function<bool(const std::string&, const std::string&)>& condition,
                std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + within_budget(timeout);
    while (!condition(result_.out, result_.err)) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline || (out_fd_ < 0 && err_fd_ < 0))
        return condition(result_.out, result_.err);
      pump(std::chrono::duration_cast<std::chrono::milliseconds>(std::min<std::chrono::steady_clock::duration>(deadline - now, 50ms)));
    }
    return true;
  }

  /// Waits until stdout holds `n` complete lines.
  bool wait_for_lines(std::size_t n, std::chrono::milliseconds timeout) {
    return wait_for([n](const std::string& out, const std::string&) {
      return static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')) >= n;
    }, timeout);
  }

  /// Signals the process (not its group).
  void send_signal(int signal_number) {
    if (!has_exited_)
      ::kill(pid_, signal_number);
  }

  /// Waits for the exit (up to what is left of the command's timeout, or `timeout` if
  /// shorter), killing it after that; returns everything it wrote.
  process_result wait(std::chrono::milliseconds timeout = std::chrono::milliseconds::max()) {
    auto deadline = started_ + timeout_;
    if (timeout != std::chrono::milliseconds::max())
      deadline = std::min(deadline, std::chrono::steady_clock::now() + timeout);
    while (!has_exited_) {
      if (out_fd_ >= 0 || err_fd_ >= 0)
        pump(20ms);
      else
        std::this_thread::sleep_for(5ms);
      reap(false);
      if (!has_exited_ && std::chrono::steady_clock::now() >= deadline) {
        ::kill(-pid_, SIGKILL);
        result_.timed_out = true;
        reap(true);
      }
    }
    // The rest of the output. The pipes close with the process, unless something it started
    // still holds them: give that a moment, then stop listening.
    finish_output(2s);
    return result_;
  }

private:
  /// Reads what is left of the output for up to `grace`, closes the pipes and checks stderr
  /// for a sanitizer report.
  void finish_output(std::chrono::milliseconds grace) {
    auto drain_until = std::chrono::steady_clock::now() + grace;
    while ((out_fd_ >= 0 || err_fd_ >= 0) && std::chrono::steady_clock::now() < drain_until)
      pump(20ms);
    for (int* fd : {&out_fd_, &err_fd_})
      if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
      }
    output_finished_ = true;
    check_no_sanitizer_report(program_, result_.err);
  }

  void reap(bool block) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (done != pid_)
      return;
    has_exited_ = true;
    if (WIFEXITED(status))
      result_.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
      result_.term_signal = WTERMSIG(status);
  }

  void pump(std::chrono::milliseconds timeout) {
    pollfd fds[2];
    int n = 0;
    if (out_fd_ >= 0)
      fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0)
      fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0)
      return;
    if (::poll(fds, n, static_cast<int>(timeout.count())) <= 0)
      return;
    for (int i = 0; i < n; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
        continue;
      char buffer[65536];
      ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      bool is_out = fds[i].fd == out_fd_;
      if (got > 0) {
        (is_out ? result_.out : result_.err).append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i].fd);
        (is_out ? out_fd_ : err_fd_) = -1;
      }
    }
  }

  std::string program_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool has_exited_ = false;
  bool output_finished_ = false;
  std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point started_;
  process_result result_;
};

/// Runs `cmd` to its end (or its timeout) and returns what it did.
inline process_result run(command cmd) {
  child_process child(std::move(cmd));
  return child.wait();
}

/// `telluride ARGS...` with TELLURIDE_AMQP_URL of the test broker (tests pass --amqp to go
/// elsewhere).
inline command telluride_command(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
  command cmd;
  cmd.args.push_back(telluride_bin());
  for (auto& a : args)
    cmd.args.push_back(std::move(a));
  cmd.env.emplace_back("TELLURIDE_AMQP_URL", broker_url());
  cmd.timeout = timeout;
  return cmd;
}

} // namespace e2e
