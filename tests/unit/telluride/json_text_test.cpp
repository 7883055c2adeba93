#include "telluride/domain/json_text.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using telluride::append_json_number;
using telluride::append_json_string;

namespace {

std::string string_json(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string number_json(double x) {
  std::string out;
  append_json_number(out, x);
  return out;
}

} // namespace

TEST_CASE("strings are quoted with quotes, backslashes and control characters escaped") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", R"("plain")"},
      {"", R"("")"},
      {"a\"b", R"("a\"b")"},
      {"back\\slash", R"("back\\slash")"},
      {"tab\tnew\nline\r\b\f", R"("tab\tnew\nline\r\b\f")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x1f\x7f", "\"\\u001f\x7f\""},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
  };
  for (const auto& [text, json] : cases) {
    CAPTURE(json);
    CHECK(string_json(text) == json);
    CHECK(nlohmann::json::parse(string_json(text)).get<std::string>() == text);
  }
}

TEST_CASE("doubles are written in shortest form and read back to the same double") {
  CHECK(number_json(99.0263) == "99.0263");
  CHECK(number_json(100.0) == "100");
  CHECK(number_json(0.1) == "0.1");
  CHECK(number_json(-0.0) == "-0");
  CHECK(number_json(1e21) == "1e+21");
  CHECK(number_json(5e-324) == "5e-324");
  CHECK(number_json(std::nan("")) == "null");
  CHECK(number_json(std::numeric_limits<double>::infinity()) == "null");

  std::mt19937_64 rng(11);
  for (int i = 0; i < 100000; ++i) {
    std::uint64_t bits = rng();
    double x;
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x))
      continue;
    const double back = nlohmann::json::parse(number_json(x)).get<double>();
    REQUIRE(std::memcmp(&back, &x, sizeof x) == 0);
  }
}

TEST_CASE("integers are written in decimal") {
  std::string out;
  telluride::append_json_integer(out, INT64_MIN);
  out += ',';
  telluride::append_json_unsigned(out, UINT64_MAX);
  CHECK(out == "-9223372036854775808,18446744073709551615");
}
