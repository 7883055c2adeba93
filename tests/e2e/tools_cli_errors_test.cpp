// The tools' command lines: every bad flag or value ends with one line and a non-zero exit.
#include "e2e_support.hpp"

#include <doctest/doctest.h>

using namespace e2e;

namespace {

struct bad_invocation {
  const char* what;
  std::vector<std::string> args;
  int exit_code;  // the exact code expected
};

std::string unreachable_url() {
  return "amqp://guest:s3cret-pw@127.0.0.1:" + std::to_string(unused_local_port()) + "/%2f";
}

} // namespace

TEST_CASE("bad flags, bad values and an unreachable broker give one line on stderr, nothing on stdout, exit != 0") {
  const std::string unreachable = unreachable_url();
  std::string refused = broker_url();  // the test broker, with a wrong password
  const auto credentials = refused.find("guest:guest@");
  REQUIRE(credentials != std::string::npos);
  refused.replace(credentials, 12, "guest:s3cret-pw@");
  const std::vector<bad_invocation> table = {
    {"unknown flag", {"sensors", "--count", "1", "--rate", "1", "--no-such-flag"}, 2},
    {"unknown subcommand", {"frobnicate"}, 2},
    {"--count 0", {"sensors", "--count", "0", "--rate", "10"}, 2},
    {"--rate -1", {"sensors", "--count", "1", "--rate", "-1"}, 2},
    {"--rate not a number", {"sensors", "--count", "1", "--rate", "fast"}, 2},
    {"--seed negative", {"sensors", "--count", "1", "--rate", "1", "--seed", "-5"}, 2},
    {"missing --rate", {"sensors", "--count", "1"}, 2},
    {"unknown sensor type", {"sensors", "--count", "1", "--rate", "1", "--types", "plasma"}, 2},
    {"more ramp batches than sensors", {"sensors", "--count", "2", "--rate", "1", "--ramp-batches", "3"}, 2},
    {"config set unknown key", {"config", "set", "bad_key=1"}, 1},
    {"config set out of bounds", {"config", "set", "processor_concurrency=0"}, 1},
    {"config set not KEY=VALUE", {"config", "set", "processor_concurrency"}, 1},
    {"config set key twice", {"config", "set", "prefetch_count=5", "prefetch_count=6"}, 1},
    {"config set without changes", {"config", "set"}, 2},
    {"tail unknown route", {"tail", "nonsense"}, 2},
    {"tail --count 0", {"tail", "events", "--count", "0"}, 2},
    {"--amqp not a URL", {"sensors", "--count", "1", "--rate", "1", "--amqp", "not-a-url"}, 2},
    {"--amqp not a URL (tail)", {"tail", "events", "--amqp", "http://127.0.0.1/"}, 2},
    {"missing config file", {"sensors", "--count", "1", "--rate", "1", "--config", "/nonexistent/telluride.json"}, 2},
    {"stats unknown flag", {"stats", "--bogus"}, 2},
    {"unreachable broker (sensors)", {"sensors", "--count", "1", "--rate", "1", "--amqp", unreachable}, 1},
    {"unreachable broker (tail)", {"tail", "events", "--amqp", unreachable}, 1},
    {"unreachable broker (config set)", {"config", "set", "prefetch_count=10", "--amqp", unreachable}, 1},
    {"refused login", {"tail", "events", "--amqp", refused}, 1},
  };
  for (const auto& bad : table) {
    const std::string what = bad.what;
    CAPTURE(what);
    auto result = run(telluride_command(bad.args, 20s));
    CHECK_FALSE(result.timed_out);
    CHECK(result.exit_code == bad.exit_code);
    CHECK(result.out.empty());
    CHECK(split_lines(result.err).size() == 1);
    CHECK(result.err.ends_with("\n"));
    CHECK(result.err.find("s3cret-pw") == std::string::npos);
  }
}

TEST_CASE("a broken config file is named in a one-line error") {
  auto path = std::filesystem::temp_directory_path() / (unique_name("e2e-bad-config") + ".json");
  std::ofstream(path) << R"({"routes": {"exchange": "x"}, "batch_sizy": 3})";
  auto result = run(telluride_command({"tail", "events", "--config", path.string()}, 20s));
  std::filesystem::remove(path);
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(split_lines(result.err).size() == 1);
  CHECK(result.err.find("batch_sizy") != std::string::npos);
}

TEST_CASE("every tool's --help describes each of its flags") {
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> helps = {
    {{"sensors", "--help"},
     {"--config", "--amqp", "--count", "--rate", "--duration", "--messages", "--seed", "--ramp-batches",
      "--ramp-interval", "--types", "--hot-share", "--confirm-window", "--confirm-timeout", "--quiet", "--json"}},
    {{"config", "set", "--help"}, {"--config", "--amqp", "--wait", "KEY=VALUE", "processor_concurrency"}},
    {{"tail", "--help"}, {"--config", "--amqp", "--count", "--pretty", "--from-queue", "--timeout", "aggregates",
                          "metrics", "throughput", "events", "alerts"}},
    {{"stats", "--help"}, {"--pretty"}},
  };
  for (const auto& [args, flags] : helps) {
    auto result = run(telluride_command(args, 10s));
    const std::string tool = args[0];
    CAPTURE(tool);
    CHECK(result.exit_code == 0);
    for (const auto& flag : flags) {
      CAPTURE(flag);
      CHECK(result.out.find(flag) != std::string::npos);
    }
  }
}
