#include "causeway/amqp/field_table.hpp"
#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/queue_channel.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

using namespace causeway::amqp;
using causeway::detail::settlement;

namespace {


} // namespace

TEST_CASE("a field_table lays out strings, integers and booleans without copying") {
  arguments args{{"x-dead-letter-exchange", std::string("sensor_events")},
                 {"x-max-priority", std::int64_t{10}},
                 {"x-single-active-consumer", true}};
  field_table table(args);
  amqp_table_t t = table.get();
  REQUIRE(t.num_entries == 3);
  CHECK(t.entries[0].value.kind == AMQP_FIELD_KIND_UTF8);
  CHECK(t.entries[0].value.value.bytes.bytes ==
        static_cast<const void*>(std::get<std::string>(args[0].value).data()));
  CHECK(t.entries[1].value.kind == AMQP_FIELD_KIND_I64);
  CHECK(t.entries[1].value.value.i64 == 10);
  CHECK(t.entries[2].value.kind == AMQP_FIELD_KIND_BOOLEAN);
  CHECK(t.entries[2].value.value.boolean == 1);
  CHECK(find_string(t, "x-dead-letter-exchange") == "sensor_events");
  CHECK(find_string(t, "x-max-priority").empty());
  CHECK(find_string(t, "absent").empty());
  field_table empty(arguments{});
  CHECK(empty.get().num_entries == 0);
}

TEST_CASE("headers render as one JSON object, nested tables and arrays included") {
  amqp_table_entry_t death_entries[2] = {};
  death_entries[0].key = view("reason");
  death_entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
  death_entries[0].value.value.bytes = view("rejected");
  death_entries[1].key = view("count");
  death_entries[1].value.kind = AMQP_FIELD_KIND_I64;
  death_entries[1].value.value.i64 = 1;
  amqp_field_value_t death{};
  death.kind = AMQP_FIELD_KIND_TABLE;
  death.value.table = amqp_table_t{2, death_entries};

  amqp_table_entry_t entries[3] = {};
  entries[0].key = view("x-death");
  entries[0].value.kind = AMQP_FIELD_KIND_ARRAY;
  entries[0].value.value.array = amqp_array_t{1, &death};
  entries[1].key = view("quote\"d");
  entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[1].value.value.bytes = view("line\nbreak");
  entries[2].key = view("ok");
  entries[2].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  entries[2].value.value.boolean = 0;
  CHECK(to_json(amqp_table_t{3, entries}) ==
        R"({"x-death":[{"reason":"rejected","count":1}],"quote\"d":"line\nbreak","ok":false})");
  CHECK(to_json(amqp_table_t{0, nullptr}) == "{}");
}

TEST_CASE("headers nested deeper than 64 levels render as null instead of recursing further") {
  // {"a":{"a":...{"a":"end"}...}}: 100 tables, each inside the one before.
  std::vector<amqp_table_entry_t> chain(100);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    chain[i].key = view("a");
    if (i + 1 < chain.size()) {
      chain[i].value.kind = AMQP_FIELD_KIND_TABLE;
      chain[i].value.value.table = amqp_table_t{1, &chain[i + 1]};
    } else {
      chain[i].value.kind = AMQP_FIELD_KIND_UTF8;
      chain[i].value.value.bytes = view("end");
    }
  }
  std::string expected;
  for (int i = 0; i < 64; ++i)
    expected += R"({"a":)";
  expected += "null" + std::string(64, '}');
  CHECK(to_json(amqp_table_t{1, chain.data()}) == expected);
}

TEST_CASE("each on_failure policy maps a failed message to its settlement") {
  struct row {
    failure_policy policy;
    bool redelivered;
    settlement expected;
  };
  const row rows[] = {
    {failure_policy::reject, false, settlement::reject},
    {failure_policy::reject, true, settlement::reject},
    {failure_policy::reject_and_requeue, false, settlement::requeue},
    {failure_policy::reject_and_requeue, true, settlement::requeue},
    {failure_policy::reject_and_requeue_once, false, settlement::requeue},
    {failure_policy::reject_and_requeue_once, true, settlement::reject},
  };
  for (const auto& r : rows) {
    CAPTURE(static_cast<int>(r.policy));
    CAPTURE(r.redelivered);
    CHECK(detail::failure_outcome(r.policy, r.redelivered) == r.expected);
  }
}

TEST_CASE("producer options are validated with the key named") {
  queue_source_options o;
  CHECK(validate(o).err().message.find("queue") != std::string::npos);
  o.queue = std::string(8, 'q');
  CHECK(validate(o));
  o.prefetch_count = 0;
  CHECK(validate(o).err().message == "prefetch_count must be in 1..65535, got 0");
  o.prefetch_count = 10;
  CHECK(o.max_body_size == 1048576);
  o.max_body_size = 0;
  CHECK(validate(o).err().message == "max_body_size must be in 1..536870912 bytes, got 0");
  o.max_body_size = 536870913;
  CHECK(validate(o).err().message == "max_body_size must be in 1..536870912 bytes, got 536870913");
  o.max_body_size = 536870912;
  CHECK(validate(o));
  CHECK(o.handoff_interval == std::chrono::milliseconds{24});
  o.handoff_interval = std::chrono::milliseconds{0};
  CHECK(validate(o).err().message == "handoff_interval must be in 1..1000 ms, got 0");
  o.handoff_interval = std::chrono::milliseconds{1001};
  CHECK(validate(o).err().message == "handoff_interval must be in 1..1000 ms, got 1001");
  o.handoff_interval = std::chrono::milliseconds{1000};
  CHECK(validate(o));
  o.bindings.push_back({"", "k", {}});
  CHECK(validate(o).err().message.find("bindings") == 0);
}
