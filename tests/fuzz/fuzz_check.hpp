// fuzz_check.hpp — the invariants the fuzz targets share, and how a broken one is reported.
//
// A broken invariant prints what was expected and what happened (escaped, shortened) and
// aborts, which libFuzzer reports as a crash and saves the input as an artifact. The checks
// are written independently of the code under test: they are its oracle.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>

#include "causeway/utf8.hpp"

namespace fuzz {

/// `text` with control and non-ASCII bytes as \xNN, cut after `limit` bytes: safe to print.
inline std::string printable(std::string_view text, std::size_t limit = 300) {
  std::string out = causeway::ascii_escaped(text.substr(0, limit));
  if (text.size() > limit)
    out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

/// Reports a broken invariant and aborts.
[[noreturn]] inline void fail(std::string_view invariant, std::string_view detail = {}) {
  std::fprintf(stderr, "\nINVARIANT BROKEN: %.*s\n", static_cast<int>(invariant.size()),
               invariant.data());
  if (!detail.empty())
    std::fprintf(stderr, "  got: %s\n", printable(detail).c_str());
  std::fflush(stderr);
  std::abort();
}

inline void check(bool holds, std::string_view invariant) {
  if (!holds)
    fail(invariant);
}

/// `detail` is what to show when the invariant is broken: text, or a function that makes it
/// (so a passing check costs nothing).
template <class Detail>
void check(bool holds, std::string_view invariant, Detail&& detail) {
  if (holds)
    return;
  if constexpr (std::is_invocable_v<Detail>)
    fail(invariant, detail());
  else
    fail(invariant, std::string_view(detail));
}

/// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
inline bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned lowest = 0x80;  // allowed range of the second byte
    unsigned highest = 0xbf;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0)
        lowest = 0xa0;  // overlong
      if (c == 0xed)
        highest = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0)
        lowest = 0x90;  // overlong
      if (c == 0xf4)
        highest = 0x8f;  // past U+10FFFF
    } else {
      return false;
    }
    if (i + length > text.size())
      return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < (k == 1 ? lowest : 0x80) || next > (k == 1 ? highest : 0xbf))
        return false;
    }
    i += length;
  }
  return true;
}

/// No byte below 0x20 (line breaks, tabs, terminal escapes): one line on any terminal. (DEL
/// is let through: JSON does not escape it, and it moves no cursor.)
inline bool is_one_clean_line(std::string_view text) {
  for (char ch : text) {
    if (static_cast<unsigned char>(ch) < 0x20)
      return false;
  }
  return true;
}

/// What every error a user may see must be: a non-empty single line of valid UTF-8.
inline void check_error_text(std::string_view message, std::string_view where) {
  if (message.empty())
    fail(std::string(where) + ": an error message is not empty");
  if (!is_valid_utf8(message))
    fail(std::string(where) + ": an error message is valid UTF-8", message);
  if (!is_one_clean_line(message))
    fail(std::string(where) + ": an error message is one line without control characters",
         message);
}

} // namespace fuzz
