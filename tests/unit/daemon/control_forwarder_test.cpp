// The copy a control forwarder publishes (control_forwarder.hpp), and how a daemon tells a copy
// delivered again: without a broker.
#include "telluride/daemon/control_forwarder.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace {

causeway::message control_message(bool redelivered, std::string headers = {}) {
  causeway::message m;
  m.data = R"({"processor_concurrency": 3})";
  m.metadata.add("message_id", "config-1");
  m.metadata.add("correlation_id", "corr-1");
  m.metadata.add("timestamp", "1764700000");
  m.metadata.add("content_type", "application/json");
  if (!headers.empty())
    m.metadata.add("headers", headers);
  m.metadata.add("delivery_tag", "7");
  m.metadata.add("redelivered", redelivered ? "true" : "false");
  return m;
}

} // namespace

TEST_CASE("a forwarded copy keeps the body, ids, content type and timestamp, and goes to the nodes exchange") {
  auto copy = telluride::forwarded_copy(control_message(false), "broadway_config_queue.nodes");
  CHECK(copy.exchange == "broadway_config_queue.nodes");
  CHECK(copy.routing_key.empty());
  CHECK(copy.body == R"({"processor_concurrency": 3})");
  CHECK(copy.properties.message_id == "config-1");
  CHECK(copy.properties.correlation_id == "corr-1");
  CHECK(copy.properties.content_type == "application/json");
  CHECK(copy.properties.timestamp == std::optional<std::uint64_t>{1764700000});
  CHECK(copy.properties.persistent);
  CHECK(copy.properties.headers.empty());
}

TEST_CASE("the copy of a message the control queue delivered again says so in a header, and reads as redelivered") {
  auto copy = telluride::forwarded_copy(control_message(true), "x");
  REQUIRE(copy.properties.headers.size() == 1);
  CHECK(copy.properties.headers[0].key == telluride::forwarded_redelivered_header);

  // As the daemon's own queue delivers it: not redelivered by the broker, the header set.
  CHECK(telluride::is_redelivered_control(control_message(false, R"({"telluride-redelivered":true})")));
  CHECK(telluride::is_redelivered_control(control_message(true)));
  CHECK_FALSE(telluride::is_redelivered_control(control_message(false)));
  CHECK_FALSE(telluride::is_redelivered_control(control_message(false, R"({"other":1})")));
  // The name in a value, or headers that are not JSON, are not the header.
  CHECK_FALSE(telluride::is_redelivered_control(control_message(false, R"({"note":"telluride-redelivered"})")));
  CHECK_FALSE(telluride::is_redelivered_control(control_message(false, "telluride-redelivered{")));
  // Headers nested 100,000 tables deep around the name: refused by the depth limit, no recursion.
  const std::string deep = std::string(100'000, '[') + "\"telluride-redelivered\"" + std::string(100'000, ']');
  CHECK_FALSE(telluride::is_redelivered_control(control_message(false, deep)));
}

TEST_CASE("a message without a timestamp or with one that is not a number is forwarded without one") {
  causeway::message m;
  m.data = "{}";
  CHECK_FALSE(telluride::forwarded_copy(m, "x").properties.timestamp.has_value());
  m.metadata.add("timestamp", "soon");
  CHECK_FALSE(telluride::forwarded_copy(m, "x").properties.timestamp.has_value());
}
