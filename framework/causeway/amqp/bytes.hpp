// bytes.hpp — rabbitmq-c's byte buffers (`amqp_bytes_t`) as views of our strings, and back.
//
// rabbitmq-c takes and gives strings as (length, pointer) pairs that own nothing. These two
// conversions are the only place the module builds or reads one by hand.
#pragma once

#include <amqp.h>

#include <string_view>

namespace causeway::amqp {

/// `s` as rabbitmq-c bytes, for calls that only read them (rabbitmq-c's API is not
/// const-correct). Valid while `s` lives.
inline amqp_bytes_t view(std::string_view s) noexcept {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

/// The bytes as text. Valid while the memory `b` points to lives: copy what you keep.
inline std::string_view text(amqp_bytes_t b) noexcept {
  return b.len == 0 ? std::string_view{} : std::string_view(static_cast<const char*>(b.bytes), b.len);
}

} // namespace causeway::amqp
