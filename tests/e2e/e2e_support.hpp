// e2e_support.hpp — what end-to-end tests need: run `telluride` as users do, and look at the
// private test broker.
//
// Processes: `run` starts a command (argv, extra environment, working folder), feeds it no
// stdin, captures stdout and stderr and waits for it with a timeout (SIGKILL after it);
// `child_process` does the same for a command that runs while the test acts (tail, the daemon):
// wait for output, send signals, then wait. Broker: `broker_admin` (one AMQP connection:
// declare, purge, delete, count, publish, drain), `broker_ctl` (rabbitmqctl of the fixture's
// broker), and `test_routes`, a config file whose route names no other test uses.
//
// Time: each test case has a budget of 55 s (`case_budget`); every wait and every process
// timeout here is cut to what is left of it, so a hanging tool fails its test in time.
//
// The ctest fixture "broker" sets TELLURIDE_TEST_AMQP_URL, TELLURIDE_BIN,
// TELLURIDE_BROKER_SCRIPT and TELLURIDE_SOURCE_DIR. Only 127.0.0.1 is ever contacted.
#pragma once

#include "broker_helpers.hpp"
#include "telluride/tools/queue_tap.hpp"

#include <causeway/amqp/publisher.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace e2e {

using namespace std::chrono_literals;
namespace amqp = causeway::amqp;

// ---------------------------------------------------------------- time budget

/// Every test case gets this long in all (ctest kills nothing before 300 s; we want < 60 s):
/// the helpers below cut their own timeouts to what is left of it.
inline constexpr std::chrono::seconds case_budget{55};
inline std::chrono::steady_clock::time_point case_deadline = std::chrono::steady_clock::now() + case_budget;

/// `wanted`, or less when the test case's budget runs out sooner (at least 100 ms).
inline std::chrono::milliseconds within_budget(std::chrono::milliseconds wanted) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(case_deadline - std::chrono::steady_clock::now());
  return std::max(std::chrono::milliseconds(100), std::min(wanted, left));
}

/// Restarts the budget when a test case starts (not when it re-enters for its next subcase).
struct budget_listener : doctest::IReporter {
  explicit budget_listener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override {
    case_deadline = std::chrono::steady_clock::now() + case_budget;
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
// Registered once per translation unit under one name: doctest keeps one.
REGISTER_LISTENER("e2e-time-budget", 1, budget_listener);

// ---------------------------------------------------------------- environment

using amqp_test::env_or_fail;
using amqp_test::shell_quote;
using amqp_test::unique_name;

inline std::string broker_url() { return env_or_fail("TELLURIDE_TEST_AMQP_URL"); }
inline std::string telluride_bin() { return env_or_fail("TELLURIDE_BIN"); }
inline std::string source_dir() { return env_or_fail("TELLURIDE_SOURCE_DIR"); }

/// A TCP port on 127.0.0.1 nobody listens on (bound, read, released): connecting is refused.
inline int unused_local_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = 20ms) {
  auto deadline = std::chrono::steady_clock::now() + within_budget(timeout);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
  return true;
}

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
/// group is killed (SIGKILL) when it outlives its timeout and when this is destroyed. Not
/// thread-safe: one test thread drives it.
class child_process {
public:
  explicit child_process(command cmd) : timeout_(within_budget(cmd.timeout)) {
    REQUIRE(!cmd.args.empty());
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
    if (out_fd_ >= 0)
      ::close(out_fd_);
    if (err_fd_ >= 0)
      ::close(err_fd_);
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
    auto drain_until = std::chrono::steady_clock::now() + 2s;
    while ((out_fd_ >= 0 || err_fd_ >= 0) && std::chrono::steady_clock::now() < drain_until)
      pump(20ms);
    for (int* fd : {&out_fd_, &err_fd_})
      if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
      }
    return result_;
  }

private:
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

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool has_exited_ = false;
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

// ---------------------------------------------------------------- broker

/// `rabbitmqctl -q ARGS` against the fixture's broker (about a second per call); stdout+stderr.
inline std::string broker_ctl(const std::string& args, int* exit_code = nullptr) {
  command cmd;
  cmd.args = {"/bin/sh", "-c", shell_quote(env_or_fail("TELLURIDE_BROKER_SCRIPT")) + " ctl -q " + args + " 2>&1"};
  cmd.timeout = 60s;
  auto result = run(std::move(cmd));
  if (exit_code != nullptr)
    *exit_code = result.exit_code;
  return result.out;
}

/// The names of the broker's queues (rabbitmqctl; slow).
inline std::vector<std::string> list_queue_names() {
  std::vector<std::string> names;
  for (auto& line : split_lines(broker_ctl("list_queues --no-table-headers name")))
    if (!line.empty())
      names.push_back(line);
  return names;
}

/// A message as a test reads it back.
struct received {
  std::string body;
  std::string message_id;
  std::string correlation_id;
  std::string content_type;
  std::string routing_key;
};

/// One AMQP connection to the test broker for setting up and checking queues. Any thread but
/// one of the broker's.
class broker_admin {
public:
  broker_admin() {
    spdlog::set_level(spdlog::level::warn);  // no "connection open" lines in test output
    amqp::connection_options options;
    options.url = broker_url();
    options.name = unique_name("e2e-admin");
    options.connect_timeout = 5s;
    auto opened = amqp::connection::open(options);
    REQUIRE_MESSAGE(opened, (opened ? "" : opened.err().message));
    conn_ = std::move(*opened);
  }

  amqp::connection& connection() { return *conn_; }

  void declare(const amqp::topology_spec& spec) {
    auto done = amqp::declare(*conn_, spec);
    REQUIRE_MESSAGE(done, (done ? "" : done.err().message));
  }
  /// A durable direct exchange.
  void declare_exchange(const std::string& name) { declare({{{name, "direct", true, false, {}}}, {}, {}}); }
  /// A durable queue, bound to `exchange` with `routing_key` when given.
  void declare_queue(const std::string& name, const std::string& exchange = {}, const std::string& routing_key = {},
                     amqp::arguments args = {}) {
    amqp::topology_spec spec;
    spec.queues.push_back({name, true, false, false, std::move(args)});
    if (!exchange.empty())
      spec.bindings.push_back({name, exchange, routing_key, {}});
    declare(spec);
  }
  /// Ready messages of `queue`; -1 when it does not exist.
  long message_count(const std::string& queue) {
    auto state = amqp::inspect_queue(*conn_, queue);
    return state ? static_cast<long>(state->messages_ready) : -1;
  }
  /// Waits until `queue` holds `n` ready messages; returns the last count seen.
  long wait_for_count(const std::string& queue, long n, std::chrono::milliseconds timeout = 20s) {
    long seen = message_count(queue);
    wait_until([&] { return (seen = message_count(queue)) == n; }, timeout, 50ms);
    return seen;
  }
  bool queue_exists(const std::string& queue) { return amqp::inspect_queue(*conn_, queue).has_value(); }
  void purge(const std::string& queue) { (void)amqp::purge_queue(*conn_, queue); }
  void delete_queue(const std::string& queue) { (void)amqp::delete_queue(*conn_, queue); }
  void delete_exchange(const std::string& exchange) { (void)amqp::delete_exchange(*conn_, exchange); }

  /// Publishes persistent JSON messages and waits for the broker's confirms.
  void publish(const std::string& exchange, const std::string& routing_key, const std::vector<std::string>& bodies,
               amqp::message_properties props = {}) {
    if (!publisher_) {
      amqp::publisher_options options;
      auto pub = amqp::publisher::open(options, conn_);
      REQUIRE_MESSAGE(pub, (pub ? "" : pub.err().message));
      publisher_ = std::move(*pub);
    }
    if (props.content_type.empty())
      props.content_type = "application/json";
    for (const auto& body : bodies)
      publisher_->publish(exchange, routing_key, body, props);
    REQUIRE(publisher_->wait_confirmed(20s));
  }

  /// Takes (and acks) `n` messages from `queue`, waiting up to `timeout`; fewer if they do not
  /// come. Messages are returned in delivery order.
  std::vector<received> drain(const std::string& queue, std::size_t n, std::chrono::milliseconds timeout = 30s) {
    telluride::tools::tap_options options;
    options.connection.url = broker_url();
    options.connection.name = unique_name("e2e-drain");
    options.queue = queue;
    options.prefetch_count = 1000;
    auto tap = telluride::tools::queue_tap::open(std::move(options));
    REQUIRE_MESSAGE(tap, (tap ? "" : tap.err().message));
    std::vector<received> out;
    auto deadline = std::chrono::steady_clock::now() + within_budget(timeout);
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto batch = (*tap)->take(100ms);
      std::vector<causeway::message> done;
      for (auto& m : batch) {
        if (out.size() >= n)
          break;
        out.push_back({m.data, std::string(m.metadata.get("message_id")), std::string(m.metadata.get("correlation_id")),
                       std::string(m.metadata.get("content_type")), std::string(m.metadata.get("routing_key"))});
        done.push_back(std::move(m));
      }
      (*tap)->acknowledge(done);
    }
    return out;
  }

private:
  std::shared_ptr<amqp::connection> conn_;
  std::shared_ptr<amqp::publisher> publisher_;
};

/// A config file whose route names (exchanges and queues) belong to this test alone; the
/// exchanges and queues are deleted, and the file removed, when it goes.
class test_routes {
public:
  explicit test_routes(const std::string& label, nlohmann::json extra = nlohmann::json::object())
    : prefix_(unique_name("e2e-" + label)) {
    routes_ = {
      {"exchange", prefix_ + ".sensor_events"},
      {"events_exchange", prefix_ + ".broadway_events"},
      {"readings_routing_key", "sensor.reading"},
      {"readings_queue", prefix_ + ".sensor_reading_queue"},
      {"control_routing_key", "sensor.config"},
      {"control_queue", prefix_ + ".broadway_config_queue"},
      {"aggregates_routing_key", "sensor.health"},
      {"aggregates_queue", prefix_ + ".sensor_health_queue"},
      {"metrics_routing_key", "sensor.metric"},
      {"metrics_queue", prefix_ + ".sensor_metric_queue"},
      {"alerts_routing_key", "sensor.alert"},
      {"alerts_queue", prefix_ + ".sensor_alert_queue"},
      {"throughput_routing_key", "broadway.throughput"},
      {"throughput_queue", prefix_ + ".broadway_throughput_queue"},
      {"events_routing_key", "broadway.event"},
      {"events_queue", prefix_ + ".broadway_event_queue"},
      {"dead_letter_routing_key", "dlx_key"},
      {"dead_letter_queue", prefix_ + ".dlx_queue"},
    };
    nlohmann::json file = std::move(extra);
    file["routes"] = routes_;
    path_ = std::filesystem::temp_directory_path() / (prefix_ + ".json");
    std::ofstream(path_) << file.dump(2);
  }
  ~test_routes() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    try {
      broker_admin admin;
      for (const auto& [key, name] : routes_.items())
        if (key.ends_with("_queue"))
          admin.delete_queue(name.get<std::string>());
      admin.delete_exchange(routes_["exchange"].get<std::string>());
      admin.delete_exchange(routes_["events_exchange"].get<std::string>());
    } catch (...) {
    }
  }
  test_routes(const test_routes&) = delete;
  test_routes& operator=(const test_routes&) = delete;

  std::string path() const { return path_.string(); }
  /// A route name of the file, e.g. `name("readings_queue")`.
  std::string name(const std::string& key) const { return routes_.at(key).get<std::string>(); }

private:
  std::string prefix_;
  nlohmann::json routes_;
  std::filesystem::path path_;
};

} // namespace e2e
