#include "causeway/utf8.hpp"

#include <doctest/doctest.h>

#include <string>

using causeway::first_invalid_utf8;
using causeway::is_valid_utf8;
using causeway::one_line_utf8;
using causeway::to_valid_utf8;

TEST_CASE("well-formed UTF-8 of every length is valid") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii {\"a\": 1}"));
  CHECK(is_valid_utf8("\xC2\xA9"));              // ©, two bytes
  CHECK(is_valid_utf8("\xE2\x82\xAC"));          // €, three bytes
  CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));      // 😀, four bytes
  CHECK(is_valid_utf8("\xEF\xBF\xBD"));          // U+FFFD
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF, the last code point
  CHECK(is_valid_utf8(std::string("a\0b", 3)));  // NUL is a character
}

TEST_CASE("ill-formed UTF-8 is found at the offset of its first byte") {
  struct bad {
    std::string text;
    std::size_t at;
  };
  const bad cases[] = {
    {"\xff", 0},                      // never valid
    {"ab\xff", 2},
    {"\x80", 0},                      // a lone continuation byte
    {"\xC0\xAF", 0},                  // overlong '/'
    {"\xC1\xBF", 0},                  // overlong
    {"\xE0\x80\xAF", 0},              // overlong, three bytes
    {"\xF0\x80\x80\xAF", 0},          // overlong, four bytes
    {"\xED\xA0\x80", 0},              // a surrogate (U+D800)
    {"\xF4\x90\x80\x80", 0},          // past U+10FFFF
    {"\xF5\x80\x80\x80", 0},
    {"ok\xE2\x82", 2},                // truncated at the end
    {"\xE2\x82x", 0},                 // truncated before ASCII
    {"\xC2\xA9\xC2", 2},
  };
  for (const auto& c : cases) {
    INFO(doctest::String(c.text.c_str()));
    CHECK(first_invalid_utf8(c.text) == c.at);
    CHECK_FALSE(is_valid_utf8(c.text));
  }
}

TEST_CASE("invalid bytes are replaced one by one with U+FFFD, valid text is kept") {
  CHECK(to_valid_utf8("a\xff" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(to_valid_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(to_valid_utf8("\xE2\x82\xAC ok") == "\xE2\x82\xAC ok");
  CHECK(is_valid_utf8(to_valid_utf8("\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80")));
}

TEST_CASE("one_line_utf8 makes one short line of valid text") {
  CHECK(one_line_utf8("parse error\nat line 2\r\tcolumn 3") == "parse error at line 2  column 3");
  CHECK(one_line_utf8("bad \xff byte") == "bad \xEF\xBF\xBD byte");
  CHECK(one_line_utf8(std::string(600, 'x')) == std::string(512, 'x') + "...");
  CHECK(one_line_utf8("abcdef", 4) == "abcd...");
  // Cut at a character boundary, never inside a sequence.
  CHECK(one_line_utf8("ab\xE2\x82\xAC", 4) == "ab...");
  CHECK(one_line_utf8("ab\xE2\x82\xAC", 5) == "ab\xE2\x82\xAC");
  CHECK(one_line_utf8("\x7f\x1b[31m") == "  [31m");
}
