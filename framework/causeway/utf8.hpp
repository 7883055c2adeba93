// utf8.hpp — UTF-8 checks for text that came from outside and is about to be echoed.
//
// A failure reason, a log line or a JSON event may quote bytes a peer sent (a parse error's
// "last read" token, a routing key, an exception's what()). Those bytes are checked here
// before they leave: JSON writers throw on invalid UTF-8, and a reason that is not valid text
// is useless to whoever reads the dead-letter queue. Header-only, no allocation on valid text.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace causeway {

/// The length of the well-formed UTF-8 sequence at the start of `text` (1..4), or 0 when it
/// does not start with one: overlong forms, surrogates and code points past U+10FFFF are
/// ill-formed (Unicode 15, table 3-7).
constexpr std::size_t utf8_sequence_length(std::string_view text) noexcept {
  if (text.empty())
    return 0;
  const auto b0 = static_cast<std::uint8_t>(text[0]);
  if (b0 < 0x80)
    return 1;
  std::size_t length = 0;
  std::uint8_t low = 0x80;   // bounds of the second byte
  std::uint8_t high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    low = b0 == 0xE0 ? 0xA0 : 0x80;   // no overlong
    high = b0 == 0xED ? 0x9F : 0xBF;  // no surrogate
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    low = b0 == 0xF0 ? 0x90 : 0x80;   // no overlong
    high = b0 == 0xF4 ? 0x8F : 0xBF;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length)
    return 0;
  const auto b1 = static_cast<std::uint8_t>(text[1]);
  if (b1 < low || b1 > high)
    return 0;
  for (std::size_t i = 2; i < length; ++i)
    if ((static_cast<std::uint8_t>(text[i]) & 0xC0) != 0x80)
      return 0;
  return length;
}

/// The offset of the first byte that does not start a well-formed sequence, or npos when all
/// of `text` is valid UTF-8.
constexpr std::size_t first_invalid_utf8(std::string_view text) noexcept {
  std::size_t at = 0;
  while (at < text.size()) {
    // ASCII runs are the common case.
    if (static_cast<std::uint8_t>(text[at]) < 0x80) {
      ++at;
      continue;
    }
    const std::size_t length = utf8_sequence_length(text.substr(at));
    if (length == 0)
      return at;
    at += length;
  }
  return std::string_view::npos;
}

constexpr bool is_valid_utf8(std::string_view text) noexcept {
  return first_invalid_utf8(text) == std::string_view::npos;
}

/// `text` with every byte that does not start a well-formed sequence replaced by U+FFFD.
inline std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t length = utf8_sequence_length(text.substr(at));
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++at;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  return out;
}

/// `text` as one line of valid UTF-8 of at most `max_bytes` bytes (plus "..." when cut, at a
/// character boundary): invalid bytes become U+FFFD, control characters (line breaks, tabs,
/// escapes) become spaces. For reasons, log lines and error replies that quote input.
inline std::string one_line_utf8(std::string_view text, std::size_t max_bytes = 512) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t length = utf8_sequence_length(text.substr(at));
    std::string_view piece = length == 0 ? std::string_view{"\xEF\xBF\xBD"} : text.substr(at, length);
    if (length == 1 && (static_cast<std::uint8_t>(piece[0]) < 0x20 || piece[0] == 0x7F))
      piece = " ";
    if (out.size() + piece.size() > max_bytes) {
      out += "...";
      return out;
    }
    out.append(piece);
    at += length == 0 ? 1 : length;
  }
  return out;
}

/// `text` as printable ASCII: every other byte, and the backslash, as \xNN. For errors that
/// quote bytes a user wrote (a URL's port), where even a replacement character would hide
/// which byte it was.
inline std::string ascii_escaped(std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

} // namespace causeway
