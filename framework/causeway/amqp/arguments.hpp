// arguments.hpp — AMQP field tables as plain C++ values, and back.
//
// Queue arguments (`x-dead-letter-exchange`, `x-max-priority`...), consume arguments
// (`x-priority`) and message headers are AMQP field tables. Users write them as a vector of
// key/value pairs; `field_table` lays them out for rabbitmq-c without copying the strings.
#pragma once

#include <amqp.h>

#include <cstdint>
#include <string>
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

/// An `amqp_table_t` over `args`; valid while both this and `args` live and are unchanged.
class field_table {
public:
  explicit field_table(const arguments& args);
  field_table(const field_table&) = delete;
  field_table& operator=(const field_table&) = delete;

  amqp_table_t get() noexcept {
    return amqp_table_t{static_cast<int>(entries_.size()), entries_.empty() ? nullptr : entries_.data()};
  }

private:
  std::vector<amqp_table_entry_t> entries_;
};

/// Renders a field table as one JSON object (`{"x-death":[{"count":1,...}],"k":"v"}`):
/// how message headers reach `metadata["headers"]`. Tables and arrays nested more than 64
/// levels deep are rendered as null.
std::string to_json(const amqp_table_t& table);

/// The string value of `key` in `table`, or "" when absent or not a string.
std::string find_string(const amqp_table_t& table, std::string_view key);

} // namespace causeway::amqp
