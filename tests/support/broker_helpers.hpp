// broker_helpers.hpp — what the integration tests need from the private test broker.
//
// The ctest fixture "broker" starts it and sets TELLURIDE_TEST_AMQP_URL and
// TELLURIDE_BROKER_SCRIPT (deploy/rabbitmq-local.sh with the fixture's TELLURIDE_BROKER_*).
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace amqp_test {

inline std::string env_or_fail(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    FAIL("environment variable " << std::string{name} << " is not set: run the test through ctest (fixture \"broker\")");
  return value;
}

inline std::string broker_url() { return env_or_fail("TELLURIDE_TEST_AMQP_URL"); }

inline std::string shell_quote(const std::string& s) {
  std::string out{"'"};
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

/// Runs `deploy/rabbitmq-local.sh ctl -q ARGS...` and returns its output (stdout + stderr).
inline std::string ctl(const std::string& args, int* exit_code = nullptr) {
  std::string command = shell_quote(env_or_fail("TELLURIDE_BROKER_SCRIPT")) + " ctl -q " + args + " 2>&1";
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
      output.append(buffer, n);
    int status = ::pclose(pipe);
    if (exit_code)
      *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return output;
}

struct queue_counts {
  long ready = -1;    ///< -1: the queue does not exist
  long unacked = -1;
};

/// A failed rabbitmqctl (it boots an Erlang VM per call, and on a loaded host it can time out)
/// is asked again, up to 3 times; the last failure's output is reported, so a count of -1 is
/// never mistaken for a missing queue without saying why.
inline queue_counts list_queue(const std::string& name) {
  std::string output;
  int exit_code = 0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    output = ctl("list_queues --no-table-headers name messages_ready messages_unacknowledged", &exit_code);
    if (exit_code == 0)
      break;
    if (attempt == 3) {
      MESSAGE("rabbitmqctl list_queues failed 3 times (exit " << exit_code << "): " << output);
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string queue;
    queue_counts counts;
    if (std::getline(fields, queue, '\t') && queue == name && (fields >> counts.ready >> counts.unacked))
      return counts;
  }
  return {};
}

/// Waits until `name` holds exactly `ready` ready and `unacked` unacknowledged messages (the
/// broker's counters lag a little behind acks).
inline queue_counts wait_for_queue(const std::string& name, long ready, long unacked,
                                   std::chrono::seconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  queue_counts counts = list_queue(name);
  while ((counts.ready != ready || counts.unacked != unacked) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    counts = list_queue(name);
  }
  return counts;
}

/// True when `line` (a list_connections row with client_properties) is the connection named
/// `connection_name` (AMQP client property connection_name, the management UI's name).
inline bool names_connection(const std::string& line, const std::string& connection_name) {
  return line.find("{\"connection_name\",\"" + connection_name + "\"}") != std::string::npos;
}

/// How many open connections are named `connection_name`.
inline int connections_named(const std::string& connection_name) {
  std::istringstream lines(ctl("list_connections --no-table-headers client_properties"));
  std::string line;
  int found = 0;
  while (std::getline(lines, line))
    found += names_connection(line, connection_name) ? 1 : 0;
  return found;
}

/// Closes, from the broker's side, every connection named `connection_name`; returns how many.
inline int close_connections_named(const std::string& connection_name) {
  std::istringstream lines(ctl("list_connections --no-table-headers pid client_properties"));
  std::string line;
  int closed = 0;
  while (std::getline(lines, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos || !names_connection(line, connection_name))
      continue;
    ctl("close_connection " + shell_quote(line.substr(0, tab)) + " 'integration test'");
    ++closed;
  }
  return closed;
}

/// A second broker of its own (own data folder, node name and ports), for tests that stop
/// and start the broker: the shared test broker must stay up for tests running in parallel.
class private_broker {
public:
  /// `slot` tells apart the private brokers of tests that may run in parallel (ctest -j):
  /// each slot has its own port (shared broker's + 50 + 10 * slot) and data folder.
  /// `extra_conf`: rabbitmq.conf lines (e.g. "heartbeat = 2", TLS listeners); `advanced_config`:
  /// Erlang terms for advanced.config (settings rabbitmq.conf has no key for); both optional.
  /// `script_env`: more `VAR=value ` settings for deploy/rabbitmq-local.sh (e.g.
  /// "TELLURIDE_BROKER_PLUGINS= " for a broker without the plugins it enables).
  /// Slots in use: 0-2, 8 and 11 integration/amqp, 3-4 its TLS tests, 5 e2e restart, 6 e2e
  /// alarm, 7 e2e users, 9 e2e broker without plugins, 13 e2e TLS, 10-18 even the fault matrix
  /// (tests run one at a time). Two tests given one slot do not clash: the second waits for
  /// the first's broker to stop (a lock file per slot), as long as its ctest timeout allows.
  explicit private_broker(int slot, const std::string& extra_conf = {}, const std::string& advanced_config = {},
                          const std::string& script_env = {}) {
    port_ = port_of(slot);
    const char* dir = std::getenv("TELLURIDE_BROKER_DIR");
    dir_ = std::string(dir ? dir : "/tmp/causeway-test-broker") + "-private-" + std::to_string(slot);
    lock_ = ::open((dir_ + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (lock_ < 0 || ::flock(lock_, LOCK_EX) != 0)
      FAIL("could not lock " << dir_ << ".lock for the private broker of slot " << slot);
    env_ = "TELLURIDE_BROKER_DIR=" + shell_quote(dir_) + " TELLURIDE_BROKER_NODE=causeway-private-" +
           std::to_string(port_) + "@localhost TELLURIDE_BROKER_PORT=" + std::to_string(port_) +
           " TELLURIDE_BROKER_MGMT_PORT=0 TELLURIDE_BROKER_DIST_PORT=" + std::to_string(port_ + 20000) +
           " TELLURIDE_BROKER_EPMD_PORT=" + std::to_string(port_ + 20011) + " " + script_env;  // never the fixture's
    std::filesystem::create_directories(dir_);
    std::filesystem::remove(dir_ + "/advanced.config");  // the script reads it when present
    if (!advanced_config.empty())
      std::ofstream{dir_ + "/advanced.config"} << advanced_config << '\n';
    if (!extra_conf.empty()) {
      std::ofstream{dir_ + "-extra.conf"} << extra_conf << '\n';
      env_ += "TELLURIDE_BROKER_EXTRA_CONF=" + shell_quote(dir_ + "-extra.conf") + " ";
    }
    int rc = run("start");
    if (rc != 0)
      FAIL("could not start a private broker on port " << port_ << ": " << output_);
  }
  ~private_broker() {
    run("stop");
    if (lock_ >= 0)
      ::close(lock_);  // the next test of this slot may start its broker
  }
  private_broker(const private_broker&) = delete;
  private_broker& operator=(const private_broker&) = delete;

  std::string url() const { return "amqp://guest:guest@127.0.0.1:" + std::to_string(port_) + "/%2f"; }
  /// The AMQP port; port() + 1 .. port() + 9 are free for extra listeners (TLS).
  int port() const { return port_; }
  /// The AMQP port of `slot`'s broker.
  static int port_of(int slot) { return std::stoi(env_or_fail("TELLURIDE_BROKER_PORT")) + 50 + 10 * slot; }
  /// `VAR=value ...` that point deploy/ scripts at this broker, for `env`.
  const std::string& script_env() const { return env_; }
  /// rabbitmqctl against this broker.
  int ctl(const std::string& args) { return run("ctl -q " + args); }
  const std::string& last_output() const { return output_; }
  /// The broker's own log (deploy/rabbitmq-local.sh names it after the node).
  std::string log_path() const {
    return dir_ + "/log/causeway-private-" + std::to_string(port_) + "@localhost.log";
  }
  /// The broker's (beam.smp) pid, from its pid file; 0 when unknown.
  pid_t pid() const {
    std::ifstream in{dir_ + "/rabbitmq.pid"};
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }

private:
  int run(const std::string& args) {
    std::string command = "env " + env_ + shell_quote(env_or_fail("TELLURIDE_BROKER_SCRIPT")) + " " + args + " 2>&1";
    output_.clear();
    int status = -1;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[4096];
      std::size_t n;
      while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
        output_.append(buffer, n);
      status = ::pclose(pipe);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  int port_ = 0;
  int lock_ = -1;
  std::string dir_;
  std::string env_;
  std::string output_;
};

/// A name no other test run uses: queues and connections of concurrent runs never meet.
inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

inline bool wait_until(const auto& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

} // namespace amqp_test
