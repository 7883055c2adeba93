#include "telluride/domain/config_schema.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using nlohmann::json;
using telluride::config;

namespace {

const std::string reconfiguration_keys =
    "producer_concurrency, processor_concurrency, sensor_batcher_one_concurrency, "
    "sensor_batcher_two_concurrency, sensor_batcher_one_batch_size, "
    "sensor_batcher_two_batch_size, batch_timeout_ms, rate_limit_allowed, rate_limit_interval, "
    "prefetch_count";

const std::string all_keys = reconfiguration_keys +
                             ", amqp_url, http_listen, http_token, aggregate_interval_ms, "
                             "metrics_interval_ms, alert_after, alert_thresholds, max_sensors, node_name, "
                             "shards, state, state_stream, checkpoint_interval_ms, routes";

std::string reconfiguration_problem(std::string_view text) {
  const auto checked = telluride::validate_reconfiguration(json::parse(text));
  return checked ? "(valid)" : checked.err().message;
}

std::string merge_problem(std::string_view text) {
  const auto merged = telluride::merge_config(config{}, json::parse(text));
  return merged ? "(valid)" : merged.err().message;
}

/// A file in a fresh temporary folder, removed with it.
class temporary_file {
public:
  explicit temporary_file(std::string_view content) {
    folder_ = std::filesystem::temp_directory_path() /
              ("telluride-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
    path_ = folder_ / "telluride.json";
    std::ofstream(path_) << content;
  }
  ~temporary_file() { std::filesystem::remove_all(folder_); }
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path folder_;
  std::filesystem::path path_;
};

std::string file_problem(std::string_view content) {
  const temporary_file file(content);
  const auto loaded = telluride::load_config_file(file.path());
  if (loaded)
    return "(valid)";
  const std::string prefix = "config file \"" + file.path().string() + "\"";
  const std::string& message = loaded.err().message;
  return message.starts_with(prefix) ? "FILE" + message.substr(prefix.size()) : message;
}

} // namespace

TEST_CASE("a reconfiguration of known keys with integers in bounds is valid") {
  CHECK(reconfiguration_problem(R"({"processor_concurrency": 4})") == "(valid)");
  CHECK(reconfiguration_problem(R"({"producer_concurrency": 64, "prefetch_count": 65535,
      "rate_limit_allowed": 0, "sensor_batcher_two_batch_size": 1})") == "(valid)");
  CHECK(reconfiguration_problem(R"({"rate_limit_allowed": 1000000000})") == "(valid)");
}

TEST_CASE("an invalid reconfiguration names its first problem") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "reconfiguration must be a non-empty JSON object"},
      {"[1]", "reconfiguration must be a non-empty JSON object"},
      {"5", "reconfiguration must be a non-empty JSON object"},
      {"null", "reconfiguration must be a non-empty JSON object"},
      {R"({"batch_sizy": 1})", "unknown key \"batch_sizy\"; known keys: " + reconfiguration_keys},
      {R"({"sensor_batcher_one_batch_size": 0})",
       "sensor_batcher_one_batch_size must be an integer in 1..100000, got 0"},
      {R"({"sensor_batcher_one_batch_size": 100001})",
       "sensor_batcher_one_batch_size must be an integer in 1..100000, got 100001"},
      {R"({"processor_concurrency": 1.5})",
       "processor_concurrency must be an integer in 1..1024, got 1.5"},
      {R"({"processor_concurrency": 2.0})",
       "processor_concurrency must be an integer in 1..1024, got 2.0"},
      {R"({"processor_concurrency": "2"})",
       "processor_concurrency must be an integer in 1..1024, got \"2\""},
      {R"({"processor_concurrency": true})",
       "processor_concurrency must be an integer in 1..1024, got true"},
      {R"({"processor_concurrency": null})",
       "processor_concurrency must be an integer in 1..1024, got null"},
      {R"({"processor_concurrency": [2]})",
       "processor_concurrency must be an integer in 1..1024, got [2]"},
      {R"({"producer_concurrency": -1})",
       "producer_concurrency must be an integer in 1..64, got -1"},
      {R"({"prefetch_count": 18446744073709551615})",
       "prefetch_count must be an integer in 1..65535, got 18446744073709551615"},
      {R"({"rate_limit_allowed": 1000000001})",
       "rate_limit_allowed must be an integer in 0..1000000000, got 1000000001"},
      {R"({"batch_timeout_ms": 0})", "batch_timeout_ms must be an integer in 1..600000, got 0"},
      {R"({"rate_limit_interval": 3600001})",
       "rate_limit_interval must be an integer in 1..3600000, got 3600001"},
      {R"({"amqp_url": "amqp://other"})",
       "amqp_url cannot be changed at runtime; reconfigurable keys: " + reconfiguration_keys},
  };
  for (const auto& [text, problem] : cases) {
    CAPTURE(text);
    CHECK(reconfiguration_problem(text) == problem);
  }
}

TEST_CASE("a control message's problems are reported in the order it was written") {
  const auto parsed = telluride::parse_reconfiguration(
      R"({"processor_concurrency": 0, "batch_sizy": 1})");
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.err().message == "processor_concurrency must be an integer in 1..1024, got 0");
  const auto valid = telluride::parse_reconfiguration(R"({"prefetch_count": 10})");
  REQUIRE(valid.has_value());
  CHECK(*valid == json{{"prefetch_count", 10}});
}

TEST_CASE("a control message that is not JSON is rejected on one line") {
  for (std::string body : {"", "not json", "{\"a\":", "{\n\"a\" 1}"}) {
    CAPTURE(body);
    const auto parsed = telluride::parse_reconfiguration(body);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.err().message.starts_with("reconfiguration is not valid JSON: "));
    CHECK(parsed.err().message.find('\n') == std::string::npos);
    CHECK(parsed.err().message.find("[json.exception") == std::string::npos);
  }
}

TEST_CASE("a control message over the documented limits is rejected with the first problem") {
  auto problem = [](const std::string& body) {
    const auto parsed = telluride::parse_reconfiguration(body);
    return parsed ? std::string("(valid)") : parsed.err().message;
  };
  CHECK(problem("{\"processor_concurrency\": 2, \"note\": \"\xff\"}") ==
        "reconfiguration is not valid UTF-8 (byte 0xff at offset 38)");
  CHECK(problem(R"({"processor_concurrency":0,"processor_concurrency":4})") ==
        R"(reconfiguration gives the key "processor_concurrency" twice)");
  CHECK(problem(R"({"processor_concurrency":4,"processor_concurrency":4})") ==
        R"(reconfiguration gives the key "processor_concurrency" twice)");
  // 64 levels parse (and are then refused as a value); 65 levels are refused as nesting.
  CHECK(problem("{\"processor_concurrency\": " + std::string(63, '[') + std::string(63, ']') + "}") ==
        "processor_concurrency must be an integer in 1..1024, got " + std::string(60, '[') + "...");
  CHECK(problem("{\"processor_concurrency\": " + std::string(64, '[') + std::string(64, ']') + "}") ==
        "reconfiguration is nested deeper than 64 levels");
  CHECK(problem(std::string(10'000, '[') + std::string(10'000, ']')) ==
        "reconfiguration is nested deeper than 64 levels");
  // The crash found from outside: 100,000 nested arrays, ~200 KB. Too large, and never parsed.
  CHECK(problem(std::string(100'000, '[') + std::string(100'000, ']')) ==
        "reconfiguration is larger than 65536 bytes (got 200000)");
  const std::string padded_prefix = "{\"processor_concurrency\": 3";
  const std::string at_limit = padded_prefix + std::string(65536 - padded_prefix.size() - 1, ' ') + "}";
  REQUIRE(at_limit.size() == 65536);
  CHECK(problem(at_limit) == "(valid)");
  CHECK(problem(at_limit + " ") == "reconfiguration is larger than 65536 bytes (got 65537)");
}

TEST_CASE("a value quoted in an error is cut at a character boundary, so the error stays UTF-8") {
  // 59 ASCII bytes and then a 2-byte character straddling the 60-byte cut.
  const std::string value = "\"" + std::string(58, 'a') + "\xc3\xa9" + "tail\"";
  const auto parsed = telluride::parse_reconfiguration("{\"processor_concurrency\": " + value + "}");
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.err().message == "processor_concurrency must be an integer in 1..1024, got \"" + std::string(58, 'a') + "...");
}

TEST_CASE("applying a reconfiguration changes only the keys it names") {
  const auto applied = telluride::apply_reconfiguration(
      config{}, json::parse(R"({"processor_concurrency": 8, "batch_timeout_ms": 250})"));
  REQUIRE(applied.has_value());
  config expected;
  expected.processor_concurrency = 8;
  expected.batch_timeout = 250ms;
  CHECK(*applied == expected);
  CHECK(telluride::reconfiguration_to_json(*applied)["processor_concurrency"] == 8);
}

TEST_CASE("an invalid reconfiguration applies nothing") {
  const auto applied = telluride::apply_reconfiguration(
      config{}, json::parse(R"({"processor_concurrency": 8, "prefetch_count": 0})"));
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.err().message == "prefetch_count must be an integer in 1..65535, got 0");
}

TEST_CASE("merging overrides checks every key of the file, reconfigurable or not") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "(valid)"},
      {R"({"http_token": "t", "alert_after": 1000000})", "(valid)"},
      {R"({"alert_thresholds": {"default": 5, "pressure": 1013.25}})", "(valid)"},
      {R"({"routes": {"readings_queue": "q"}})", "(valid)"},
      {R"({"http_listen": "[::1]:0"})", "(valid)"},
      {R"({"amqp_url": "amqps://u:p@broker:5671/v"})", "(valid)"},
      {"[]", "config must be a JSON object, got []"},
      {R"({"foo": 1})", "unknown key \"foo\"; known keys: " + all_keys},
      {R"({"alert_after": 0})", "alert_after must be an integer in 1..1000000, got 0"},
      {R"({"aggregate_interval_ms": "1000"})",
       "aggregate_interval_ms must be an integer in 1..3600000, got \"1000\""},
      {R"({"http_token": 5})", "http_token must be a string, got 5"},
      {R"({"http_listen": "9464"})",
       "http_listen must be HOST:PORT (e.g. 127.0.0.1:9464), got \"9464\""},
      {R"({"amqp_url": "http://u:secret@host"})",
       "amqp_url must start with amqp:// or amqps://, got \"http://u:***@host\""},
      {R"({"amqp_url": 1})",
       "amqp_url must be a string starting with amqp:// or amqps://, got 1"},
      {R"({"alert_thresholds": 100})",
       "alert_thresholds must be an object of sensor type → number, got 100"},
      {R"({"alert_thresholds": {"default": 1, "humidity": "high"}})",
       "alert_thresholds.humidity must be a number, got \"high\""},
      {R"({"alert_thresholds": {"temperature": 80}})",
       "alert_thresholds must contain \"default\" (for readings without a listed type)"},
      {R"({"routes": []})", "routes must be an object of route key → name, got []"},
      {R"({"routes": {"readings": "x"}})",
       "unknown key \"routes.readings\"; known keys: routes.exchange, routes.events_exchange, "
       "routes.readings_routing_key, routes.readings_queue, routes.control_routing_key, "
       "routes.control_queue, routes.aggregates_routing_key, routes.aggregates_queue, "
       "routes.metrics_routing_key, routes.metrics_queue, routes.alerts_routing_key, "
       "routes.alerts_queue, routes.throughput_routing_key, routes.throughput_queue, "
       "routes.events_routing_key, routes.events_queue, routes.dead_letter_routing_key, "
       "routes.dead_letter_queue, routes.shards_exchange"},
      {R"({"routes": {"exchange": ""}})",
       "routes.exchange must be a non-empty string of at most 255 bytes, got \"\""},
      {R"({"routes": {"exchange": 3}})",
       "routes.exchange must be a non-empty string of at most 255 bytes, got 3"},
      {R"({"routes": {"alerts_queue": "amq.alerts"}})",
       "routes.alerts_queue must not start with \"amq.\" (reserved by RabbitMQ), got "
       "\"amq.alerts\""},
      {R"({"node_name": "", "shards": 1024, "state": "memory", "checkpoint_interval_ms": 60000})", "(valid)"},
      {R"({"node_name": "höst-1 rack-3", "state_stream": "s"})", "(valid)"},
      {R"({"shards": 0})", "shards must be an integer in 1..1024, got 0"},
      {R"({"shards": 1025})", "shards must be an integer in 1..1024, got 1025"},
      {R"({"shards": "4"})", "shards must be an integer in 1..1024, got \"4\""},
      {R"({"checkpoint_interval_ms": 0})", "checkpoint_interval_ms must be an integer in 1..60000, got 0"},
      {R"({"checkpoint_interval_ms": 60001})",
       "checkpoint_interval_ms must be an integer in 1..60000, got 60001"},
      {R"({"state": "disk"})", "state must be \"durable\" or \"memory\", got \"disk\""},
      {R"({"state": true})", "state must be \"durable\" or \"memory\", got true"},
      {R"({"state_stream": ""})", "state_stream must be a non-empty string of at most 255 bytes, got \"\""},
      {R"({"state_stream": "amq.state"})",
       "state_stream must not start with \"amq.\" (reserved by RabbitMQ), got \"amq.state\""},
      {R"({"node_name": 7})",
       "node_name must be a string of at most 128 bytes of UTF-8 without control characters, got 7"},
      {R"({"node_name": "a\tb"})",
       "node_name must be a string of at most 128 bytes of UTF-8 without control characters, got \"a\\tb\""},
      {R"({"node_name": ")" + std::string(129, 'n') + "\"}",
       "node_name must be a string of at most 128 bytes of UTF-8 without control characters, got \"" +
           std::string(59, 'n') + "..."},
      {R"({"routes": {"shards_exchange": "sensor_events"}})",
       "routes.shards_exchange must differ from routes.exchange and routes.events_exchange, got "
       "\"sensor_events\""},
      {R"({"shards": 1000, "routes": {"readings_queue": ")" + std::string(251, 'q') + "\"}}", "(valid)"},
      {R"({"shards": 1000, "routes": {"readings_queue": ")" + std::string(252, 'q') + "\"}}",
       "routes.readings_queue must be at most 251 bytes with shards 1000 (its shard queues add "
       "\".<shard>\"), got 252 bytes"},
  };
  for (const auto& [text, problem] : cases) {
    CAPTURE(text);
    CHECK(merge_problem(text) == problem);
  }
}

TEST_CASE("routes merge name by name, while alert thresholds replace the whole map") {
  const auto merged = telluride::merge_config(config{}, json::parse(R"({
      "routes": {"readings_queue": "my_readings", "exchange": "my_exchange"},
      "alert_thresholds": {"default": 5, "pressure": 1013.25},
      "http_listen": "0.0.0.0:8080", "metrics_interval_ms": 250})"));
  REQUIRE(merged.has_value());
  CHECK(merged->routes.readings_queue == "my_readings");
  CHECK(merged->routes.exchange == "my_exchange");
  CHECK(merged->routes.control_queue == "broadway_config_queue");
  CHECK(merged->alert_thresholds ==
        std::map<std::string, double, std::less<>>{{"default", 5.0}, {"pressure", 1013.25}});
  CHECK(merged->http_listen == telluride::host_port{"0.0.0.0", 8080});
  CHECK(merged->metrics_interval == 250ms);
}

TEST_CASE("a config file with some keys keeps the defaults of the others") {
  const temporary_file file(R"({"processor_concurrency": 6, "http_token": "abc"})");
  const auto loaded = telluride::load_config_file(file.path());
  REQUIRE(loaded.has_value());
  config expected;
  expected.processor_concurrency = 6;
  expected.http_token = "abc";
  CHECK(*loaded == expected);
}

TEST_CASE("a bad config file gives one line naming the path and the problem") {
  CHECK(file_problem(R"({"processor_concurrency": 0})") ==
        "FILE: processor_concurrency must be an integer in 1..1024, got 0");
  CHECK(file_problem(R"({"zeta": 1, "alpha": 2})") ==
        "FILE: unknown key \"zeta\"; known keys: " + all_keys);
  CHECK(file_problem("[1]") == "FILE must hold one JSON object, got [1]");
  const std::string not_json = file_problem("{\n  \"processor_concurrency\": 2,\n}");
  CHECK(not_json.starts_with("FILE is not valid JSON: parse error at line 3, column 1"));
  CHECK(not_json.find('\n') == std::string::npos);
  CHECK(file_problem("") .starts_with("FILE is not valid JSON: "));
}

TEST_CASE("a config file is bounded like a reconfiguration, with room for 1 MiB") {
  CHECK(file_problem(R"({"processor_concurrency": 2, "processor_concurrency": 3})") ==
        R"(FILE gives the key "processor_concurrency" twice)");
  CHECK(file_problem(R"({"routes": {"readings_queue": "a", "readings_queue": "b"}})") ==
        R"(FILE gives the key "readings_queue" twice)");
  CHECK(file_problem("{\"http_token\": \"\xc3\x28\"}") == "FILE is not valid UTF-8 (byte 0xc3 at offset 16)");
  CHECK(file_problem(std::string(100, '[') + std::string(100, ']')) == "FILE is nested deeper than 64 levels");
  CHECK(file_problem("{}" + std::string(1024 * 1024, ' ')) == "FILE is larger than 1048576 bytes (got 1048577)");
  // A path that never ends (a device, a fifo) is read only up to the limit.
  const auto endless = telluride::load_config_file("/dev/zero");
  REQUIRE_FALSE(endless.has_value());
  CHECK(endless.err().message == "config file \"/dev/zero\" is larger than 1048576 bytes (got 1048577)");
}

TEST_CASE("a config file that cannot be read is named with the reason") {
  const auto missing = telluride::load_config_file("/nonexistent/telluride.json");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.err().message ==
        "cannot read config file \"/nonexistent/telluride.json\": No such file or directory");
  const auto folder = telluride::load_config_file(std::filesystem::temp_directory_path());
  REQUIRE_FALSE(folder.has_value());
  CHECK(folder.err().message == "cannot read config file \"" +
                                    std::filesystem::temp_directory_path().string() +
                                    "\": Is a directory");
}

TEST_CASE("config set KEY=VALUE takes a reconfiguration key and an integer in bounds") {
  const auto parsed = telluride::parse_key_value("processor_concurrency=4");
  REQUIRE(parsed.has_value());
  CHECK(parsed->first == "processor_concurrency");
  CHECK(parsed->second == 4);
  CHECK(telluride::parse_key_value("rate_limit_allowed=0")->second == 0);

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"processor_concurrency", "expected KEY=VALUE, got \"processor_concurrency\""},
      {"=4", "expected KEY=VALUE, got \"=4\""},
      {"batch_sizy=1", "unknown key \"batch_sizy\"; known keys: " + reconfiguration_keys},
      {"amqp_url=amqp://x",
       "amqp_url cannot be changed at runtime; reconfigurable keys: " + reconfiguration_keys},
      {"prefetch_count=0", "prefetch_count must be an integer in 1..65535, got 0"},
      {"prefetch_count=abc", "prefetch_count must be an integer in 1..65535, got abc"},
      {"prefetch_count=1.5", "prefetch_count must be an integer in 1..65535, got 1.5"},
      {"prefetch_count= 5", "prefetch_count must be an integer in 1..65535, got  5"},
      {"prefetch_count=", "prefetch_count must be an integer in 1..65535, got nothing"},
      {"prefetch_count=99999999999999999999",
       "prefetch_count must be an integer in 1..65535, got 99999999999999999999"},
  };
  for (const auto& [argument, problem] : cases) {
    CAPTURE(argument);
    const auto result = telluride::parse_key_value(argument);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.err().message == problem);
  }
}

TEST_CASE("config set arguments become one valid reconfiguration message") {
  const std::vector<std::string> arguments = {"processor_concurrency=4", "prefetch_count=500"};
  const auto change = telluride::parse_key_values(arguments);
  REQUIRE(change.has_value());
  CHECK(*change == json{{"processor_concurrency", 4}, {"prefetch_count", 500}});
  CHECK(telluride::validate_reconfiguration(*change).has_value());

  const std::vector<std::string> twice = {"prefetch_count=1", "prefetch_count=2"};
  CHECK(telluride::parse_key_values(twice).err().message == "prefetch_count is given twice");
  CHECK(telluride::parse_key_values({}).err().message ==
        "expected at least one KEY=VALUE; reconfigurable keys: " + reconfiguration_keys);
}

TEST_CASE("a flag's text becomes its option's value, checked with the config file's words") {
  auto flag = [](std::string_view key, std::string_view text) {
    const auto value = telluride::parse_flag_value(key, text);
    if (!value)
      return "error: " + value.err().message;
    const auto merged = telluride::merge_config(config{}, json{{std::string(key), *value}});
    return merged ? value->dump() : "error: " + merged.err().message;
  };
  CHECK(flag("shards", "8") == "8");
  CHECK(flag("checkpoint_interval_ms", "250") == "250");
  CHECK(flag("node_name", "edge-7") == "\"edge-7\"");
  CHECK(flag("state", "memory") == "\"memory\"");
  CHECK(flag("state_stream", "my_state") == "\"my_state\"");
  CHECK(flag("shards", "0") == "error: shards must be an integer in 1..1024, got 0");
  CHECK(flag("shards", "four") == "error: shards must be an integer in 1..1024, got four");
  CHECK(flag("shards", "") == "error: shards must be an integer in 1..1024, got nothing");
  CHECK(flag("shards", "4\n5") == "error: shards must be an integer in 1..1024, got 4 5");
  CHECK(flag("state", "disk") == "error: state must be \"durable\" or \"memory\", got \"disk\"");
  CHECK(flag("state_stream", "amq.x") ==
        "error: state_stream must not start with \"amq.\" (reserved by RabbitMQ), got \"amq.x\"");
  CHECK(flag("state_stream", "\xff") == "error: state_stream must be valid UTF-8, got \"\xef\xbf\xbd\"");
  CHECK(flag("node_name", "n\xff") ==
        "error: node_name must be a string of at most 128 bytes of UTF-8 without control characters, got "
        "\"n\xef\xbf\xbd\"");
  CHECK(flag("routes", "{}") == "error: routes is set in the config file only");
  CHECK(flag("nodes", "x").starts_with("error: unknown key \"nodes\"; known keys: producer_concurrency, "));
}
