// snapshot_index_fuzz.cpp — the snapshot index entry decoder (docs/checkpoints.md, Finding the
// latest snapshot) on arbitrary bytes, and the restore's plan from them.
//
// Invariants: an error is one short line of valid UTF-8 starting "snapshot index: "; a decoded
// entry encodes to exactly the input (the format is canonical) and keeps its bounds (layout
// 1..1024, shard below it, offset not negative); plan_restore_start takes the same bytes and
// either plans from that entry (for its own shard) or names why not in one line.
// Seeds: tests/fuzz/corpus/snapshot_index/.
#include "fuzz_check.hpp"

#include "telluride/state/restore_start.hpp"
#include "telluride/state/snapshot_index.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace telluride;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = decode_index_entry(bytes);
  const shard_identity shard{decoded ? decoded->layout : 1, decoded ? decoded->shard : 0};
  const restore_start plan = plan_restore_start(shard, std::optional<std::string>{std::string(bytes)});
  if (!decoded) {
    const std::string& message = decoded.err().message;
    fuzz::check_error_text(message, "decode_index_entry");
    fuzz::check(message.size() <= 300, "an index error is short", message);
    fuzz::check(message.starts_with("snapshot index: "), "an index error says what it is about", message);
    fuzz::check(!plan.entry && plan.why_first == message, "a bad entry plans from the first record, saying why",
                plan.why_first);
    return 0;
  }
  fuzz::check(decoded->layout >= 1 && decoded->layout <= 1024 && decoded->shard < decoded->layout &&
                decoded->offset >= 0,
              "a decoded entry keeps its bounds");
  const auto again = encode_index_entry(*decoded);
  fuzz::check(again.has_value() && *again == bytes, "a decoded entry encodes to the same bytes");
  fuzz::check(plan.entry.has_value() && *plan.entry == *decoded, "a good entry for its shard is planned from");
  return 0;
}
