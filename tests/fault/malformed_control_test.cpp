// Fault matrix: malformed control messages of every kind docs/wire-format.md (Reconfiguration)
// names (not JSON, not UTF-8, nested deeper than 64 levels, larger than 64 KiB, not an object,
// a key given twice, unknown key, wrong type, out of bounds), plus inputs of the kinds fuzzers
// find, while readings flow. Each is dead-lettered with its reason and answered by a
// config_rejected event naming the problem; none changes the configuration; the readings are
// counted exactly.
#include "fault_checks.hpp"

#include <algorithm>
#include <cctype>

using namespace fault_test;
using namespace std::string_literals;

namespace {

struct malformed {
  std::string kind;
  std::string body;
  std::vector<std::string> reason_mentions;  ///< the reason names one of these (any case)
};

std::string nested_objects(std::size_t depth) {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i)
    out += "{\"a\":";
  return out + "1" + std::string(depth, '}');
}

const std::vector<std::string> depth_words{"depth", "deep", "nest", "level"};
const std::vector<std::string> size_words{"KiB", "large", "size", "bytes", "long"};
const std::vector<std::string> parse_words{"JSON", "parse", "syntax"};

std::vector<std::string> either(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<malformed> malformed_kinds() {
  return {
    {"not JSON", "not json", parse_words},
    {"not JSON: empty", "", either({"empty"}, parse_words)},
    {"not JSON: truncated", "{\"processor_concurrency\": 4", parse_words},
    {"not JSON: trailing text", "{\"processor_concurrency\": 4} x", parse_words},
    {"not JSON: a NUL byte", "{\"processor_concurrency\": 4\0}"s, parse_words},
    // Found by the fuzz targets: the parser took the NUL for the end and applied the first object.
    {"not JSON: a NUL byte between two objects", "{\"prefetch_count\": 20}\0{\"processor_concurrency\": 0}"s, parse_words},
    {"not UTF-8: a 0xff byte", "{\"processor_concurrency\": 4, \"\xff\": 1}", {"UTF-8", "UTF8"}},
    {"not UTF-8: a lone surrogate escape", "{\"processor_concurrency\": \"\\ud800\"}",
     either({"UTF-8", "surrogate", "processor_concurrency"}, parse_words)},
    {"nested 65 objects deep", nested_objects(65), depth_words},
    {"nested 30,000 arrays deep (under 64 KiB)", nested_arrays(30'000), depth_words},
    {"nested 100,000 arrays deep (~200 KB)", nested_arrays(100'000), either(depth_words, size_words)},
    {"nested 30,000 arrays deep as a value (under 64 KiB)",
     "{\"processor_concurrency\": " + nested_arrays(30'000) + "}", depth_words},
    {"nested 100,000 arrays deep as a value (~200 KB)",
     "{\"processor_concurrency\": " + nested_arrays(100'000) + "}", either(depth_words, size_words)},
    {"larger than 64 KiB, otherwise valid",
     "{\"processor_concurrency\":" + std::string(70'000, ' ') + "4}", size_words},
    {"not an object: array", "[1, 2]", {"object"}},
    {"not an object: number", "42", {"object"}},
    {"not an object: string", "\"processor_concurrency\"", {"object"}},
    {"not an object: null", "null", {"object"}},
    {"an empty object", "{}", {"empty"}},
    {"a key given twice", "{\"processor_concurrency\": 0, \"processor_concurrency\": 4}", {"processor_concurrency"}},
    {"a key given twice, both valid", "{\"prefetch_count\": 10, \"prefetch_count\": 20}", {"prefetch_count"}},
    {"unknown key", "{\"batch_sizy\": 3}", {"batch_sizy"}},
    {"a config-file key, not reconfigurable", "{\"http_listen\": \"127.0.0.1:1\"}", {"http_listen"}},
    {"wrong type: string", "{\"processor_concurrency\": \"2\"}", {"processor_concurrency"}},
    {"wrong type: fraction", "{\"processor_concurrency\": 1.5}", {"processor_concurrency"}},
    {"wrong type: bool", "{\"prefetch_count\": true}", {"prefetch_count"}},
    {"wrong type: null", "{\"batch_timeout_ms\": null}", {"batch_timeout_ms"}},
    {"wrong type: object", "{\"rate_limit_allowed\": {}}", {"rate_limit_allowed"}},
    {"out of bounds: zero", "{\"processor_concurrency\": 0}", {"processor_concurrency"}},
    {"out of bounds: above", "{\"prefetch_count\": 70000}", {"prefetch_count"}},
    {"out of bounds: negative", "{\"rate_limit_allowed\": -1}", {"rate_limit_allowed"}},
    {"out of bounds: 1e300", "{\"sensor_batcher_one_batch_size\": 1e300}", {"sensor_batcher_one_batch_size"}},
    {"out of bounds: beyond 64 bits", "{\"batch_timeout_ms\": 18446744073709551616}", {"batch_timeout_ms"}},
    {"one bad key among good ones", "{\"processor_concurrency\": 4, \"rate_limit_interval\": 0}", {"rate_limit_interval"}},
  };
}

bool mentions_any(const std::string& reason, const std::vector<std::string>& words) {
  auto lower = [](std::string t) {
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    return t;
  };
  return std::any_of(words.begin(), words.end(),
                     [&](const std::string& w) { return lower(reason).find(lower(w)) != std::string::npos; });
}

void malformed_control_messages_under_load(std::size_t rounds) {
  daemon_process d{"malformed" + std::to_string(::getpid())};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  amqp_session control{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  auto before = http_request(d.port(), "GET", "/api/config");
  REQUIRE(before.status == 200);
  const auto kinds = malformed_kinds();
  const std::size_t good = 10'000;
  reading_set set{200, good, 89, "malformed"};

  std::map<std::string, const malformed*> sent;  // correlation id → kind
  std::vector<std::string> bodies;
  std::string control_error;  // what stopped the controller, if anything
  std::thread controller{[&] {
    try {
      for (std::size_t r = 0; r < rounds; ++r) {
        for (std::size_t k = 0; k < kinds.size(); ++k) {
          auto id = "malformed-" + std::to_string(r) + "-" + std::to_string(k);
          sent[id] = &kinds[k];
          bodies.push_back(kinds[k].body);
          control.publish(d.route("exchange"), d.route("control_routing_key"), kinds[k].body, id, id);
        }
        control.wait_confirms();  // a round (~0.5 MB) at a time
      }
    } catch (const std::exception& e) {
      control_error = e.what();
    }
  }};
  for (std::size_t from = 0; from < good; from += 500) {
    publish_readings(s, d, set, from, from + 500);
    std::this_thread::sleep_for(20ms);
  }
  controller.join();
  REQUIRE_MESSAGE(control_error.empty(), "publishing the control messages: " << control_error);
  const std::size_t total = sent.size();

  event_view events;
  CHECK(eventually([&] { events.update(s, d); return d.exited() || events.named("config_rejected").size() >= total; },
                   std::chrono::seconds(60 + total / 20)));
  require_alive(d);
  auto rejected = events.named("config_rejected");
  CHECK(rejected.size() == total);
  std::set<std::string> answered;
  for (const auto& e : rejected) {
    auto id = e.value("correlation_id", "");
    INFO("event " << e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    REQUIRE_MESSAGE(sent.count(id) == 1, "a config_rejected event for no message sent");
    INFO("kind: " << sent.at(id)->kind);
    CHECK(answered.insert(id).second);
    REQUIRE(e["reason"].is_string());
    CHECK(mentions_any(e["reason"].get<std::string>(), sent.at(id)->reason_mentions));
  }
  for (const auto& [id, kind] : sent)
    CHECK_MESSAGE(answered.count(id) == 1, "no config_rejected event for \"" << kind->kind << "\" (" << id << ")");
  for (const auto& e : events.named("config_applied"))
    FAIL_CHECK("applied: " << e.value("correlation_id", "") << " " << e["config"].dump());
  auto after = http_request(d.port(), "GET", "/api/config");
  CHECK(after.body == before.body);
  CHECK(nlohmann::json::parse(after.body)["version"] == 0);

  auto dead = take_dead_letters(s, d, total);
  CHECK(dead.size() == total);
  std::multiset<std::string> dead_bodies;
  std::size_t with_reason = 0;
  for (const auto& m : dead) {
    dead_bodies.insert(m.body);
    with_reason += m.headers.count("x-telluride-reason") == 1 && !m.headers.at("x-telluride-reason").empty();
  }
  CHECK(with_reason == dead.size());
  CHECK(dead_bodies == std::multiset<std::string>(bodies.begin(), bodies.end()));

  check_counts_exact(s, d, set.expected(good), good, 0);
  check_alive_ready_and_drained(s, d);
}

} // namespace

TEST_CASE("malformed control messages of every kind under load: each dead-lettered and rejected, nothing changes [ci]") {
  malformed_control_messages_under_load(ci_sizes.malformed_rounds);
}

TEST_CASE("malformed control messages of every kind under load: each dead-lettered and rejected, nothing changes [full]") {
  malformed_control_messages_under_load(full_sizes.malformed_rounds);
}
