#include "causeway/amqp/field_table.hpp"

#include "causeway/amqp/bytes.hpp"

#include <cstdio>
#include <string_view>

namespace causeway::amqp {

namespace {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Headers come from whoever published the message: tables and arrays nested deeper than this
// are rendered as null rather than recursed into.
constexpr int max_json_depth = 64;

void append_json(std::string& out, const amqp_field_value_t& v, int depth);

void append_json_table(std::string& out, const amqp_table_t& t, int depth) {
  out += '{';
  for (int i = 0; i < t.num_entries; ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, text(t.entries[i].key));
    out += ':';
    append_json(out, t.entries[i].value, depth + 1);
  }
  out += '}';
}

void append_json(std::string& out, const amqp_field_value_t& v, int depth) {
  if ((v.kind == AMQP_FIELD_KIND_ARRAY || v.kind == AMQP_FIELD_KIND_TABLE) && depth >= max_json_depth) {
    out += "null";
    return;
  }
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN: out += v.value.boolean ? "true" : "false"; break;
    case AMQP_FIELD_KIND_I8: out += std::to_string(v.value.i8); break;
    case AMQP_FIELD_KIND_U8: out += std::to_string(v.value.u8); break;
    case AMQP_FIELD_KIND_I16: out += std::to_string(v.value.i16); break;
    case AMQP_FIELD_KIND_U16: out += std::to_string(v.value.u16); break;
    case AMQP_FIELD_KIND_I32: out += std::to_string(v.value.i32); break;
    case AMQP_FIELD_KIND_U32: out += std::to_string(v.value.u32); break;
    case AMQP_FIELD_KIND_I64: out += std::to_string(v.value.i64); break;
    case AMQP_FIELD_KIND_U64: out += std::to_string(v.value.u64); break;
    case AMQP_FIELD_KIND_TIMESTAMP: out += std::to_string(v.value.u64); break;
    case AMQP_FIELD_KIND_F32: out += std::to_string(v.value.f32); break;
    case AMQP_FIELD_KIND_F64: out += std::to_string(v.value.f64); break;
    case AMQP_FIELD_KIND_DECIMAL: {
      double d = static_cast<double>(v.value.decimal.value);
      for (int i = 0; i < v.value.decimal.decimals; ++i)
        d /= 10.0;
      out += std::to_string(d);
      break;
    }
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: append_json_string(out, text(v.value.bytes)); break;
    case AMQP_FIELD_KIND_ARRAY:
      out += '[';
      for (int i = 0; i < v.value.array.num_entries; ++i) {
        if (i > 0)
          out += ',';
        append_json(out, v.value.array.entries[i], depth + 1);
      }
      out += ']';
      break;
    case AMQP_FIELD_KIND_TABLE: append_json_table(out, v.value.table, depth); break;
    default: out += "null"; break;
  }
}

} // namespace

field_table::field_table(const arguments& args) {
  entries_.reserve(args.size());
  for (const auto& arg : args) {
    amqp_table_entry_t entry{};
    entry.key = view(arg.key);
    if (const auto* s = std::get_if<std::string>(&arg.value)) {
      entry.value.kind = AMQP_FIELD_KIND_UTF8;
      entry.value.value.bytes = view(*s);
    } else if (const auto* i = std::get_if<std::int64_t>(&arg.value)) {
      entry.value.kind = AMQP_FIELD_KIND_I64;
      entry.value.value.i64 = *i;
    } else {
      entry.value.kind = AMQP_FIELD_KIND_BOOLEAN;
      entry.value.value.boolean = std::get<bool>(arg.value) ? 1 : 0;
    }
    entries_.push_back(entry);
  }
}

std::string to_json(const amqp_table_t& table) {
  std::string out;
  append_json_table(out, table, 0);
  return out;
}

std::string find_string(const amqp_table_t& table, std::string_view key) {
  for (int i = 0; i < table.num_entries; ++i) {
    const auto& e = table.entries[i];
    if (text(e.key) == key &&
        (e.value.kind == AMQP_FIELD_KIND_UTF8 || e.value.kind == AMQP_FIELD_KIND_BYTES))
      return std::string(text(e.value.value.bytes));
  }
  return {};
}

} // namespace causeway::amqp
