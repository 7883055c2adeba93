// daemon_process.hpp — runs `telluride pipeline` as users do, with a config file of its own
// (unique queue names, a free HTTP port), for end-to-end tests.
#pragma once

#include "e2e_support.hpp"
#include "sanitizer_report.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace telluride::test {

using namespace std::chrono_literals;

using e2e::env_or_fail;

struct http_reply {
  int status = 0;
  std::string body;
};

/// One HTTP/1.0 request to 127.0.0.1:port; status 0 when nothing answered.
inline http_reply http_request(int port, const std::string& method, const std::string& path,
                               const std::string& body = {}, const std::string& extra_headers = {}) {
  http_reply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + extra_headers +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[65536];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
    response.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  if (response.rfind("HTTP/1.", 0) == 0 && response.size() > 12)
    reply.status = std::stoi(response.substr(9, 3));
  if (auto split = response.find("\r\n\r\n"); split != std::string::npos)
    reply.body = response.substr(split + 4);
  return reply;
}

class daemon_process {
public:
  /// Writes a config file with routes of this test alone (deleted with it), a free HTTP port and
  /// the test broker, merged with `overrides`.
  daemon_process(const std::string& label, nlohmann::json overrides = nlohmann::json::object())
    : port_(e2e::unused_local_port()), routes_(label, merged_config(port_, overrides)),
      log_path_(routes_.path() + ".log") {}

  /// Kills the daemon if it still runs; a sanitizer report in its log fails the test case.
  ~daemon_process() {
    if (is_running()) {
      ::kill(pid_, SIGKILL);
      reap(0);
    }
    e2e::check_no_sanitizer_report(program_, log());
  }

  std::string config_path() const { return routes_.path(); }
  const std::string& log_path() const { return log_path_; }
  std::string route(const std::string& key) const { return routes_.name(key); }
  int port() const { return port_; }
  /// The process launched last, also once it has exited (-1 before the first launch).
  pid_t pid() const { return pid_; }

  /// Starts the daemon and waits until /readyz answers 200.
  void start(std::chrono::milliseconds timeout = 20s) {
    launch({"pipeline", "--config", config_path()});
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (http_request(port_, "GET", "/readyz").status == 200)
        return;
      if (exited())
        throw std::runtime_error("the daemon exited at start: " + log());
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("the daemon did not become ready: " + log());
  }

  void launch(const std::vector<std::string>& args) {
    if (!program_.empty())
      e2e::check_no_sanitizer_report(program_, log());  // the run before: its log is replaced
    program_ = "telluride" + (args.empty() ? std::string() : " " + args[0]);
    exit_code_.reset();
    std::vector<std::string> all{env_or_fail("TELLURIDE_BIN")};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_ = -1;  // until the spawn succeeds
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start " + all[0]);
    posix_spawn_file_actions_destroy(&actions);
  }

  /// Sends `signal` and waits for the exit code (nullopt if it did not exit in time). A daemon
  /// that has already exited gets no signal: its exit code comes back at once.
  std::optional<int> stop(int signal = SIGTERM, std::chrono::milliseconds timeout = 30s) {
    if (is_running())
      ::kill(pid_, signal);
    return wait(timeout);
  }

  /// The exit code (128 + signal when killed), or nullopt if it still runs after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (is_running() && std::chrono::steady_clock::now() < deadline) {
      reap(WNOHANG);
      if (is_running())
        std::this_thread::sleep_for(20ms);
    }
    return exit_code_;
  }

  /// True once the daemon has ended (and before it was launched).
  bool exited() {
    if (is_running())
      reap(WNOHANG);
    return !is_running();
  }

  std::string log() const {
    std::ifstream in{log_path()};
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

private:
  // Never signal or wait for pid -1: kill(-1, ...) reaches every process of the user and
  // waitpid(-1, ...) reaps any child. So the pid stays set and the exit code tells the end.
  bool is_running() const { return pid_ > 0 && !exit_code_; }

  void reap(int options) {
    int status = 0;
    if (::waitpid(pid_, &status, options) == pid_)
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  static nlohmann::json merged_config(int port, const nlohmann::json& overrides) {
    nlohmann::json config{{"amqp_url", env_or_fail("TELLURIDE_TEST_AMQP_URL")},
                          {"http_listen", "127.0.0.1:" + std::to_string(port)},
                          {"aggregate_interval_ms", 200},
                          {"metrics_interval_ms", 200}};
    config.update(overrides);
    return config;
  }

  int port_;
  e2e::test_routes routes_;
  std::string log_path_;
  std::string program_;  ///< what runs (or ran) from launch, for reports
  pid_t pid_ = -1;
  std::optional<int> exit_code_;  ///< set once the process launched last has been reaped
};

} // namespace telluride::test
