#include "causeway/percent_encoding.hpp"

#include <doctest/doctest.h>

using causeway::percent_decode;

TEST_CASE("percent_decode turns escapes into bytes and names a broken escape") {
  CHECK(*percent_decode("a%20b%2fc%2F") == "a b/c/");
  CHECK(*percent_decode("%00x") == std::string("\0x", 2));
  CHECK(*percent_decode("a+b") == "a+b");
  CHECK(*percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("bad%2").err().message == "truncated percent escape");
  CHECK(percent_decode("%").err().message == "truncated percent escape");
  CHECK(percent_decode("a%zzb").err().message == "bad percent escape \"%zz\"");
}
