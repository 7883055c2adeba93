// The heartbeat a daemon sends on the members exchange (member_heartbeat.hpp): what it encodes
// comes back equal, and bytes from the broker that are not a heartbeat are one-line errors.
#include "telluride/daemon/member_heartbeat.hpp"

#include <doctest/doctest.h>

#include <string>

// Its own namespace: the unity build compiles several test files as one.
namespace member_heartbeat_test {

using telluride::decode_heartbeat;
using telluride::encode_heartbeat;
using telluride::held_shard;
using telluride::member_heartbeat;

TEST_CASE("a heartbeat decodes to what was encoded: node, start id, K and the shards held with their states") {
  const member_heartbeat hb{"node-a", 18446744073709551615ULL, 12,
                            {{0, "active"}, {7, "restoring"}, {11, "handing_over"}}};
  const std::string bytes = encode_heartbeat(hb);
  CHECK(bytes ==
        R"({"held":[{"shard":0,"state":"active"},{"shard":7,"state":"restoring"},{"shard":11,"state":"handing_over"}],)"
        R"("node":"node-a","shards":12,"start_id":18446744073709551615})");
  auto back = decode_heartbeat(bytes);
  REQUIRE(back.has_value());
  CHECK(*back == hb);
  auto none = decode_heartbeat(encode_heartbeat(member_heartbeat{"b", 1, 1, {}}));
  REQUIRE(none.has_value());
  CHECK(none->held.empty());
  CHECK(none->shards == 1);
}

TEST_CASE("bytes that are not a heartbeat are an error naming the first problem") {
  const std::string ok_start = R"({"node":"a","start_id":1,"shards":4,"held":)";
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"", "heartbeat: not JSON (or nested deeper than 3 levels)"},
    {"[1]", "heartbeat: not a JSON object"},
    {R"({"node":"a","start_id":1,"shards":4,"held":[[[[1]]]]})", "heartbeat: not JSON (or nested deeper than 3 levels)"},
    {R"({"start_id":1,"shards":4,"held":[]})", "heartbeat: \"node\" must be a string of 1..255 bytes"},
    {R"({"node":"","start_id":1,"shards":4,"held":[]})", "heartbeat: \"node\" must be a string of 1..255 bytes"},
    {R"({"node":")" + std::string(256, 'n') + R"(","start_id":1,"shards":4,"held":[]})",
     "heartbeat: \"node\" must be a string of 1..255 bytes"},
    {R"({"node":"a","start_id":-1,"shards":4,"held":[]})", "heartbeat: \"start_id\" must be an unsigned integer"},
    {R"({"node":"a","start_id":1,"shards":0,"held":[]})", "heartbeat: \"shards\" must be an integer in 1..1024"},
    {R"({"node":"a","start_id":1,"shards":1025,"held":[]})", "heartbeat: \"shards\" must be an integer in 1..1024"},
    {R"({"node":"a","start_id":1,"shards":4})", "heartbeat: \"held\" must be a list"},
    {ok_start + "[1]}", "heartbeat: each of \"held\" must be an object"},
    {ok_start + R"([{"shard":4,"state":"active"}]})", "heartbeat: a held \"shard\" must be an integer below shards (4)"},
    {ok_start + R"([{"shard":1,"state":"standby"}]})",
     "heartbeat: a held shard's \"state\" must be active, restoring or handing_over"},
    {ok_start + R"([{"shard":1,"state":"active"},{"shard":1,"state":"restoring"}]})",
     "heartbeat: shard 1 is held twice"},
    {std::string(64 * 1024 + 1, ' '), "heartbeat: larger than 65536 bytes"},
    {"{\"node\":\"\xff\",\"start_id\":1,\"shards\":4,\"held\":[]}", "heartbeat: not JSON (or nested deeper than 3 levels)"},
  };
  for (const auto& [bytes, problem] : cases) {
    CAPTURE(bytes.substr(0, 80));
    auto decoded = decode_heartbeat(bytes);
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.err().message == problem);
  }
}

} // namespace member_heartbeat_test
