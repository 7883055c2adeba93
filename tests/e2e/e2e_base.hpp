// e2e_base.hpp — the time budget of an end-to-end test case and the environment the ctest
// fixture sets. Part of e2e_support.hpp; include that.
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

} // namespace e2e

