// Putting topology specs together (topology_declaration.hpp), without a broker.
#include "causeway/amqp/topology_declaration.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace amqp = causeway::amqp;

namespace {

std::vector<std::string> queue_names(const amqp::topology_spec& spec) {
  std::vector<std::string> out;
  for (const auto& q : spec.queues)
    out.push_back(q.name);
  return out;
}

} // namespace

TEST_CASE("append adds every part of one spec after the same part of the other, in order") {
  amqp::topology_spec to;
  to.exchanges.push_back({"x1", "direct", true, false, {}});
  to.queues.push_back({"q1", true, false, false, {}});
  to.deleted_exchanges.push_back("old1");
  amqp::topology_spec from;
  from.exchanges.push_back({"x2", "fanout", true, false, {}});
  from.queues.push_back({"q2", true, false, false, {}});
  from.queues.push_back({"q3", false, true, true, {{"x-max-length", std::int64_t{1}}}});
  from.bindings.push_back({"q2", "x2", "key", {}});
  from.exchange_bindings.push_back({"x1", "x2", "#", {}});
  from.unbindings.push_back({"q1", "x1", "gone", {}});
  from.deleted_exchanges.push_back("old2");

  amqp::append(to, from);

  REQUIRE(to.exchanges.size() == 2);
  CHECK(to.exchanges[0].name == "x1");
  CHECK(to.exchanges[1].name == "x2");
  CHECK(to.exchanges[1].type == "fanout");
  CHECK(queue_names(to) == std::vector<std::string>{"q1", "q2", "q3"});
  CHECK(to.queues[2].exclusive);
  CHECK(to.queues[2].args == from.queues[1].args);
  REQUIRE(to.bindings.size() == 1);
  CHECK(to.bindings[0].routing_key == "key");
  REQUIRE(to.exchange_bindings.size() == 1);
  CHECK(to.exchange_bindings[0].source == "x2");
  REQUIRE(to.unbindings.size() == 1);
  CHECK(to.unbindings[0].routing_key == "gone");
  CHECK(to.deleted_exchanges == std::vector<std::string>{"old1", "old2"});
}

TEST_CASE("append of an empty spec changes nothing") {
  amqp::topology_spec to;
  to.queues.push_back({"q1", true, false, false, {}});
  amqp::append(to, amqp::topology_spec{});
  CHECK(queue_names(to) == std::vector<std::string>{"q1"});
  CHECK(to.exchanges.empty());
  CHECK(to.bindings.empty());
}
