// The checkpoint_decoder fuzz target's seeds are valid records of each kind: written by
// tests/fuzz/checkpoint_seeds.cpp, they must follow the format as it is now; the v1_* and v2_*
// seeds, which it wrote for format versions 1 and 2, must still decode.
#include "telluride/state/checkpoint_record.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

TEST_CASE("the checkpoint decoder's fuzz seeds decode, one record of each kind in each version") {
  const std::filesystem::path folder =
      std::filesystem::path(CAUSEWAY_SOURCE_DIR) / "tests/fuzz/corpus/checkpoint_decoder";
  std::map<telluride::record_kind, int> kinds;
  std::map<int, int> versions;
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
    const int version = static_cast<unsigned char>(bytes.at(4));
    CHECK(entry.path().filename().string().starts_with("v1_") == (version == 1));
    CHECK(entry.path().filename().string().starts_with("v2_") == (version == 2));
    ++versions[version];
    ++seeds;
  }
  CHECK(seeds == 21);
  CHECK(versions == std::map<int, int>{{1, 7}, {2, 7}, {3, 7}});
  CHECK(kinds[telluride::record_kind::snapshot] == 9);
  CHECK(kinds[telluride::record_kind::delta] == 3);
  CHECK(kinds[telluride::record_kind::takeover] == 3);
  CHECK(kinds[telluride::record_kind::release] == 3);
  CHECK(kinds[telluride::record_kind::layout] == 3);
}
