// The variable-length integers of checkpoint format version 3 (record_bytes.hpp): each value
// has one form, the shortest; the reader refuses longer forms, values above 2^64 - 1 and
// truncation, and says which.
#include "telluride/state/record_bytes.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

using telluride::detail::byte_reader;
using telluride::detail::byte_writer;

namespace {

std::string varint_bytes(std::uint64_t v) {
  std::string out;
  byte_writer{out}.varint(v);
  return out;
}

std::string zigzag_bytes(std::int64_t v) {
  std::string out;
  byte_writer{out}.zigzag(v);
  return out;
}

} // namespace

TEST_CASE("varints take 1 byte below 128, 10 for 2^64 - 1, and read back") {
  CHECK(varint_bytes(0) == std::string(1, '\0'));
  CHECK(varint_bytes(127) == "\x7f");
  CHECK(varint_bytes(128) == "\x80\x01");
  CHECK(varint_bytes(300) == "\xac\x02");
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  CHECK(varint_bytes(max) == "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127}, std::uint64_t{128},
                          std::uint64_t{16383}, std::uint64_t{16384}, std::uint64_t{1} << 35, max - 1, max}) {
    CAPTURE(v);
    const std::string bytes = varint_bytes(v);
    byte_reader in{bytes};
    CHECK(in.varint() == v);
    CHECK_FALSE(in.failed());
    CHECK(in.left() == 0);
  }
}

TEST_CASE("zigzag keeps small negatives short and reads back every sign and extreme") {
  CHECK(zigzag_bytes(0) == std::string(1, '\0'));
  CHECK(zigzag_bytes(-1) == "\x01");
  CHECK(zigzag_bytes(1) == "\x02");
  CHECK(zigzag_bytes(-64) == "\x7f");
  CHECK(zigzag_bytes(64) == "\x80\x01");
  constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
  constexpr auto highest = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}, std::int64_t{-100},
                         std::int64_t{1795341600}, lowest, lowest + 1, highest}) {
    CAPTURE(v);
    const std::string bytes = zigzag_bytes(v);
    byte_reader in{bytes};
    CHECK(in.zigzag() == v);
    CHECK_FALSE(in.failed());
  }
}

TEST_CASE("a varint longer than its shortest form, above 2^64 - 1, or cut short is refused, and the reader says which") {
  for (const std::string& bytes : {std::string("\x80\x00", 2), std::string("\xff\x80\x00", 3),
                                  std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"),
                                  std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x01")}) {
    CAPTURE(bytes.size());
    byte_reader in{bytes};
    CHECK(in.varint() == 0);
    CHECK(in.failed());
    CHECK(std::string(in.failure()) == "a variable-length integer is not in its shortest form, or above 2^64 - 1");
  }
  for (const std::string& bytes : {std::string(), std::string("\x80"), std::string("\xff\xff")}) {
    byte_reader in{bytes};
    CHECK(in.varint() == 0);
    CHECK(in.failed());
    CHECK(std::string(in.failure()) == "truncated");
  }
  // A failed reader reads nothing more.
  const std::string bytes("\x80\x00\x05", 3);
  byte_reader in{bytes};
  in.varint();
  CHECK(in.varint() == 0);
  CHECK(in.failed());
}
