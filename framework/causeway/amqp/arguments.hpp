// arguments.hpp — AMQP field tables as plain C++ values, and back.
//
// Queue arguments (`x-dead-letter-exchange`, `x-max-priority`...), consume arguments
// (`x-priority`) and message headers are AMQP field tables. Users write them as a vector of
// key/value pairs; `field_table` (field_table.hpp, internal) lays them out for rabbitmq-c.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace causeway::amqp {

using argument_value = std::variant<std::string, std::int64_t, bool>;

struct argument {
  std::string key;
  argument_value value;
  friend bool operator==(const argument&, const argument&) = default;
};

using arguments = std::vector<argument>;

} // namespace causeway::amqp
