// percent_encoding.hpp — %XX escapes (RFC 3986) in URLs and their parts: the AMQP URL's user,
// password and vhost, and HTTP paths and query strings.
#pragma once

#include "causeway/expected.hpp"

#include <string>
#include <string_view>

namespace causeway {

/// `text` with every `%XX` replaced by its byte, and `+` by a space when `plus_is_space` (as in
/// query strings). Errors: "truncated percent escape", "bad percent escape \"%zz\"".
inline expected<std::string> percent_decode(std::string_view text, bool plus_is_space = false) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && plus_is_space) {
      out += ' ';
      continue;
    }
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size())
      return error{"truncated percent escape"};
    int hi = hex(text[i + 1]);
    int lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0)
      return error{"bad percent escape \"" + std::string(text.substr(i, 3)) + "\""};
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

} // namespace causeway
