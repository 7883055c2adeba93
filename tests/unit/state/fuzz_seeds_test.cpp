// The checkpoint_decoder fuzz target's seeds are valid records of each kind: written by
// tests/fuzz/checkpoint_seeds.cpp, they must follow the format as it is now; the v1_*, v2_* and
// v3_* seeds, which it wrote for format versions 1 to 3, must still decode. delta_kept keeps
// fields: it decodes against the state snapshot_full_window restores, and not alone.
#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/shard_state.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

TEST_CASE("the checkpoint decoder's fuzz seeds decode, one record of each kind in each version") {
  const std::filesystem::path folder =
      std::filesystem::path(CAUSEWAY_SOURCE_DIR) / "tests/fuzz/corpus/checkpoint_decoder";
  auto read = [](const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  };
  telluride::shard_state base{telluride::alert_rules{}, 8};
  base.restore(telluride::decode_checkpoint(read(folder / "snapshot_full_window")).value().image);
  std::map<telluride::record_kind, int> kinds;
  std::map<int, int> versions;
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().filename().string().starts_with("regress"))
      continue;  // regression seeds are what the fuzzer found: not records
    CAPTURE(entry.path().string());
    const std::string bytes = read(entry.path());
    const bool keeps = entry.path().filename() == "delta_kept";
    CHECK(telluride::decode_checkpoint(bytes).has_value() == !keeps);
    const auto decoded = telluride::decode_checkpoint(bytes, keeps ? &base.table() : nullptr);
    REQUIRE_MESSAGE(decoded.has_value(), (decoded ? std::string() : decoded.err().message));
    ++kinds[decoded->header.kind];
    const int version = static_cast<unsigned char>(bytes.at(4));
    CHECK(entry.path().filename().string().starts_with("v1_") == (version == 1));
    CHECK(entry.path().filename().string().starts_with("v2_") == (version == 2));
    CHECK(entry.path().filename().string().starts_with("v3_") == (version == 3));
    ++versions[version];
    ++seeds;
  }
  CHECK(seeds == 29);
  CHECK(versions == std::map<int, int>{{1, 7}, {2, 7}, {3, 7}, {4, 8}});
  CHECK(kinds[telluride::record_kind::snapshot] == 12);
  CHECK(kinds[telluride::record_kind::delta] == 5);
  CHECK(kinds[telluride::record_kind::takeover] == 4);
  CHECK(kinds[telluride::record_kind::release] == 4);
  CHECK(kinds[telluride::record_kind::layout] == 4);
}
