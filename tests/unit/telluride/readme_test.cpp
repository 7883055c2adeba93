// The README's configuration reference and example must not drift from the code.
#include <doctest/doctest.h>

#include "telluride/domain/config_schema.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string between(const std::string& text, const std::string& begin, const std::string& end) {
  auto from = text.find(begin);
  auto to = text.find(end);
  if (from == std::string::npos || to == std::string::npos || to < from)
    return "<markers " + begin + " / " + end + " not found>";
  from += begin.size();
  return text.substr(from, to - from);
}

} // namespace

TEST_CASE("the README's configuration reference is the validator's table") {
  auto readme = read_file(std::string{CAUSEWAY_SOURCE_DIR} + "/README.md");
  auto table = between(readme, "<!-- config-reference:begin -->\n", "<!-- config-reference:end -->");
  CHECK(table == telluride::markdown_reference());
}

TEST_CASE("the README's example is examples/hello_pipeline.cpp") {
  auto readme = read_file(std::string{CAUSEWAY_SOURCE_DIR} + "/README.md");
  auto example = read_file(std::string{CAUSEWAY_SOURCE_DIR} + "/examples/hello_pipeline.cpp");
  auto shown = between(readme, "<!-- example:begin -->\n```cpp\n", "```\n<!-- example:end -->");
  CHECK(shown == example);
}
