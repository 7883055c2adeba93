#include "telluride/domain/bounded_json.hpp"

#include <doctest/doctest.h>

#include <string>

using telluride::json_limits;
using telluride::parse_bounded_json;

namespace {

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string problem(std::string_view text, json_limits limits = {}) {
  auto parsed = parse_bounded_json(text, limits);
  return parsed ? "(parsed)" : parsed.err().message;
}

} // namespace

TEST_CASE("JSON within the limits parses in the order it was written") {
  auto parsed = parse_bounded_json(R"({"b": 1, "a": [true, {"c": null}], "d": "\u00e9"})", {});
  REQUIRE(parsed);
  CHECK(parsed->dump() == R"({"b":1,"a":[true,{"c":null}],"d":"é"})");
}

TEST_CASE("nesting is limited to max_depth containers, however deep the input goes") {
  CHECK(problem(nested_arrays(64)) == "(parsed)");
  CHECK(problem(nested_arrays(65)) == "is nested deeper than 64 levels");
  CHECK(problem(R"({"a": {"b": [1]}})", {1024, 3}) == "(parsed)");
  CHECK(problem(R"({"a": {"b": [1]}})", {1024, 2}) == "is nested deeper than 2 levels");
  // 100,000 levels (200 KB): one short error, no stack overflow.
  CHECK(problem(nested_arrays(100'000), {1 << 20, 64}) == "is nested deeper than 64 levels");
  CHECK(problem(std::string(100'000, '{'), {1 << 20, 64}).starts_with("is not valid JSON"));
  CHECK(problem(std::string(100'000, '['), {1 << 20, 64}) == "is nested deeper than 64 levels");
}

TEST_CASE("the size limit counts bytes and names both numbers") {
  const std::string at_limit = "[" + std::string(98, ' ') + "]";
  CHECK(problem(at_limit, {100, 64}) == "(parsed)");
  CHECK(problem(at_limit + " ", {100, 64}) == "is larger than 100 bytes (got 101)");
}

TEST_CASE("text that is not UTF-8 is refused with the byte and its offset, before parsing") {
  CHECK(problem("{\"processor_concurrency\": \"\xff\"}") == "is not valid UTF-8 (byte 0xff at offset 27)");
  CHECK(problem("\xc0\xaf") == "is not valid UTF-8 (byte 0xc0 at offset 0)");
  CHECK(problem("{\"a\": 1} \xed\xa0\x80") == "is not valid UTF-8 (byte 0xed at offset 9)");
}

TEST_CASE("a key given twice in one object is refused, the same key in two objects is not") {
  CHECK(problem(R"({"processor_concurrency":0,"processor_concurrency":4})") ==
        R"(gives the key "processor_concurrency" twice)");
  CHECK(problem(R"({"a": {"x": 1, "x": 2}})") == R"(gives the key "x" twice)");
  CHECK(problem(R"({"a": {"x": 1}, "b": {"x": 2}, "x": [{"x": 3}, {"x": 4}]})") == "(parsed)");
  CHECK(problem(R"({"a": {"x": 1}, "a": 2})") == R"(gives the key "a" twice)");
  // Keys are compared after unescaping: "\u0061" is "a".
  CHECK(problem(R"({"a": 1, "\u0061": 2})") == R"(gives the key "a" twice)");
}

TEST_CASE("syntax errors are one line") {
  const std::string message = problem("{\"a\":\n\n}");
  CHECK(message.starts_with("is not valid JSON: parse error at line 3, column 1"));
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("a NUL byte is refused wherever it is: the parser would take it for the end of the text") {
  using namespace std::string_literals;
  // Found by the reconfiguration and config-file fuzz targets: the object before the NUL was
  // applied and the rest ignored.
  CHECK(problem("{\"prefetch_count\": 120}\0{\"processor_concurrency\": 0}"s) ==
        "is not valid JSON: a NUL byte at offset 23");
  CHECK(problem("{\"a\": \"x\0y\"}"s) == "is not valid JSON: a NUL byte at offset 8");
  CHECK(problem("\0"s) == "is not valid JSON: a NUL byte at offset 0");
  CHECK(problem(R"({"a": "x\u0000y"})") == "(parsed)");  // written as JSON allows it
}
