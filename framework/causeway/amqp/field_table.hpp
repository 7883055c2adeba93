// field_table.hpp — AMQP field tables between `arguments` and rabbitmq-c (internal).
//
// `field_table` lays arguments out as an `amqp_table_t` without copying the strings; `to_json`
// and `find_string` read the tables the broker sends (message headers).
#pragma once

#include "causeway/amqp/arguments.hpp"

#include <amqp.h>

#include <string>
#include <string_view>
#include <vector>

namespace causeway::amqp {

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
