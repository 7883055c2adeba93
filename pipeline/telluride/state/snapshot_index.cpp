#include "telluride/state/snapshot_index.hpp"

#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/record_bytes.hpp"

#include <causeway/utf8.hpp>

#include <optional>

namespace telluride {

namespace {

constexpr std::string_view index_magic = "TLSI";

/// The rules encode and decode both check; none when the entry keeps them.
std::optional<std::string> index_rule_broken(const snapshot_index_entry& e) {
  if (e.layout == 0 || e.layout > max_checkpoint_layout)
    return "layout " + std::to_string(e.layout) + " is out of 1.." + std::to_string(max_checkpoint_layout);
  if (e.shard >= e.layout)
    return "shard " + std::to_string(e.shard) + " is not below the layout " + std::to_string(e.layout);
  if (e.offset < 0)
    return "offset " + std::to_string(e.offset) + " is negative";
  if (e.owner.size() > max_owner_size)
    return "owner name is " + std::to_string(e.owner.size()) + " bytes (at most " + std::to_string(max_owner_size) +
           ")";
  if (!causeway::is_valid_utf8(e.owner))
    return "owner name is not UTF-8";
  return std::nullopt;
}

error index_problem(const std::string& what) {
  return error{"snapshot index: " + what};
}

} // namespace

expected<std::string> encode_index_entry(const snapshot_index_entry& entry) {
  if (auto broken = index_rule_broken(entry))
    return index_problem(*broken);
  std::string out;
  detail::byte_writer w{out};
  w.bytes(index_magic);
  w.u16(snapshot_index_version);
  w.u32(entry.layout);
  w.u32(entry.shard);
  w.i64(entry.offset);
  w.u64(entry.sequence);
  w.u64(entry.epoch);
  w.u64(entry.record_hash);
  w.u16(static_cast<std::uint16_t>(entry.owner.size()));
  w.bytes(entry.owner);
  return out;
}

expected<snapshot_index_entry> decode_index_entry(std::string_view bytes) {
  detail::byte_reader r{bytes};
  if (r.bytes(index_magic.size()) != index_magic)
    return index_problem("not an index entry (no TLSI magic)");
  if (const auto version = r.u16(); !r.failed() && version != snapshot_index_version)
    return index_problem("version " + std::to_string(version) + " is not " + std::to_string(snapshot_index_version));
  snapshot_index_entry e;
  e.layout = r.u32();
  e.shard = r.u32();
  e.offset = r.i64();
  e.sequence = r.u64();
  e.epoch = r.u64();
  e.record_hash = r.u64();
  const std::uint16_t owner_size = r.u16();
  e.owner.assign(r.bytes(owner_size));
  if (r.failed())
    return index_problem("truncated (byte " + std::to_string(r.position()) + ")");
  if (r.left() != 0)
    return index_problem(std::to_string(r.left()) + " bytes after the entry (byte " + std::to_string(r.position()) + ")");
  if (auto broken = index_rule_broken(e))
    return index_problem(*broken);
  return e;
}

} // namespace telluride
