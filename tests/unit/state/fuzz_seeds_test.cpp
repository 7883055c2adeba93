// The checkpoint_decoder fuzz target's seeds are valid records of each kind: written by
// tests/fuzz/checkpoint_seeds.cpp, they must follow the format as it is now.
#include "telluride/state/checkpoint_record.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

TEST_CASE("the checkpoint decoder's fuzz seeds decode, one record of each kind at least") {
  const std::filesystem::path folder =
      std::filesystem::path(CAUSEWAY_SOURCE_DIR) / "tests/fuzz/corpus/checkpoint_decoder";
  std::map<telluride::record_kind, int> kinds;
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().filename().string().starts_with("regress"))
      continue;  // regression seeds are what the fuzzer found: not records
    CAPTURE(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const auto decoded = telluride::decode_checkpoint(bytes);
    REQUIRE_MESSAGE(decoded.has_value(), (decoded ? std::string() : decoded.err().message));
    ++kinds[decoded->header.kind];
    ++seeds;
  }
  CHECK(seeds == 7);
  CHECK(kinds[telluride::record_kind::snapshot] == 3);
  CHECK(kinds[telluride::record_kind::delta] == 1);
  CHECK(kinds[telluride::record_kind::takeover] == 1);
  CHECK(kinds[telluride::record_kind::release] == 1);
  CHECK(kinds[telluride::record_kind::layout] == 1);
}
