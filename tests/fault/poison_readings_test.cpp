// Fault matrix: poison readings of every kind among good ones. Each is failed (dead-lettered
// with its reason, counted as failed), the good ones are counted exactly, and the daemon keeps
// consuming and stays ready.
#include "fault_checks.hpp"

using namespace fault_test;
using namespace std::string_literals;

namespace {

/// A reading with `field` replaced by the raw JSON text `value`.
std::string reading_with(const std::string& field, const std::string& value) {
  std::map<std::string, std::string> fields{{"line_id", "1"}, {"device_id", "2"}, {"sensor_id", "3"},
                                            {"reading", "20.5"}, {"timestamp", "\"2026-11-22T10:00:00Z\""}};
  fields[field] = value;
  std::string out = "{";
  for (const auto& [k, v] : fields)
    if (!v.empty())
      out += (out.size() > 1 ? "," : "") + ("\"" + k + "\":" + v);
  return out + "}";
}

/// Poison readings, one of each kind; the 100,000-deep one only when `with_deep` (it is 200 KB).
std::vector<std::string> poison_kinds(bool with_deep) {
  std::vector<std::string> kinds{
    "not json",
    "",
    "{\"line_id\": 1, \"device_id\": 2, \"sensor_id\": 3, \"reading\": 4",  // truncated
    "[1, 2, 3]",
    "42",
    "null",
    "\"a string\"",
    reading_with("sensor_id", ""),                  // missing sensor_id
    reading_with("reading", ""),                    // missing reading
    reading_with("timestamp", ""),                  // missing timestamp
    reading_with("reading", "\"abc\""),             // not a number
    reading_with("reading", "null"),
    reading_with("reading", "true"),
    reading_with("reading", "[1]"),
    reading_with("timestamp", "\"yesterday\""),
    reading_with("timestamp", "{}"),
    reading_with("line_id", "{\"a\": 1}"),          // ids are integers or strings
    reading_with("device_id", "[2]"),
    reading_with("sensor_id", "true"),
    reading_with("line_id", "\"\xff\""),            // not UTF-8
    reading_with("reading", "4") + " trailing",     // a good reading, then text
    "{\"line_id\": 1, \"device_id\": 2, \"sensor_id\": 3, \"reading\": 4\0, \"timestamp\": 1}"s,
    nested_arrays(100),
    "{\"line_id\": " + nested_arrays(5000) + "}",
  };
  if (with_deep)
    kinds.push_back(nested_arrays(100'000));  // ~200 KB
  return kinds;
}

void poison_readings_among_good_ones(std::size_t poison_count) {
  daemon_process d{"poison" + std::to_string(::getpid())};
  d.start();
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  const std::size_t good = 10'000;
  reading_set set{200, good, 83, "poison"};
  // Interleaved: a slice of good readings, then a slice of poison, and so on.
  std::vector<std::string> poison;
  const auto kinds = poison_kinds(false);
  const auto deep = poison_kinds(true).back();
  for (std::size_t i = 0; i < poison_count; ++i)
    poison.push_back(i % 100 == 99 ? deep : kinds[i % kinds.size()]);  // 1 in 100 is 200 KB deep
  const std::size_t slices = 20;
  for (std::size_t k = 0; k < slices; ++k) {
    publish_readings(s, d, set, k * good / slices, (k + 1) * good / slices);
    for (std::size_t i = k * poison_count / slices; i < (k + 1) * poison_count / slices; ++i)
      s.publish(d.route("exchange"), d.route("readings_routing_key"), poison[i], "poison-" + std::to_string(i));
    s.wait_confirms();
  }

  check_counts_exact(s, d, set.expected(good), good, poison_count);
  auto dead = take_dead_letters(s, d, poison_count);
  CHECK(dead.size() == poison_count);
  std::multiset<std::string> bodies;
  std::size_t with_reason = 0;
  for (const auto& m : dead) {
    bodies.insert(m.body);
    with_reason += m.headers.count("x-telluride-reason") == 1 && !m.headers.at("x-telluride-reason").empty();
  }
  CHECK(with_reason == dead.size());
  CHECK(bodies == std::multiset<std::string>(poison.begin(), poison.end()));
  CHECK(metric_of(d.port(), "telluride_amqp_connection_losses_total") == 0);
  check_alive_ready_and_drained(s, d);
}

} // namespace

TEST_CASE("poison readings of every kind among 10,000 good ones: each dead-lettered, good ones exact [ci]") {
  poison_readings_among_good_ones(std::max<std::size_t>(ci_sizes.poison_readings, poison_kinds(false).size()));
}

TEST_CASE("poison readings of every kind among 10,000 good ones: each dead-lettered, good ones exact [full]") {
  poison_readings_among_good_ones(full_sizes.poison_readings);
}
