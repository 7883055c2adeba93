#include "telluride/daemon/state_restore.hpp"

#include "telluride/daemon/reading_handler.hpp"

#include <spdlog/spdlog.h>

#include <memory>

namespace telluride {

namespace {

/// Reads records until `enough` says so after one, or nothing comes for `quiet`: true when
/// `enough` ended it. `last_offset` is the offset of the last record read.
template <class Enough>
expected<bool> read_until(record_source& source, shard_claim& claim, std::chrono::milliseconds quiet,
                          std::int64_t& last_offset, Enough enough) {
  for (;;) {
    auto records = source.next(quiet);
    if (!records)
      return records.err();
    if (records->empty())
      return false;
    for (const auto& record : *records) {
      claim.read(record.bytes);
      last_offset = record.offset;
      if (enough(record.bytes))
        return true;  // what follows was written after it
    }
  }
}

} // namespace

expected<stream_restored> restore_from_stream(record_source& source, record_sink& sink, shard_claim& claim,
                                              const restore_settings& settings) {
  const std::string shard = "shard " + std::to_string(claim.shard().shard);
  std::int64_t last_offset = -1;
  // 1. Everything there is now (the stream has no end marker: quiet means caught up, and so
  //    does a record written after the reading began, when other owners write all the time and
  //    the stream is never quiet). A clock behind the writers' ends this early: the claim may
  //    then lose, and is made again above what was read by then (step 4).
  const std::int64_t began_ms = now_ms();
  auto is_recent = [began_ms](std::string_view bytes) {
    auto header = decode_checkpoint_header(bytes);
    return header && header->written_at_ms >= began_ms;
  };
  if (auto read = read_until(source, claim, settings.settle, last_offset, is_recent); !read)
    return error{shard + ": " + read.err().message};
  for (int attempt = 1; attempt <= settings.attempts; ++attempt) {
    // 2. The claim.
    auto takeover = claim.claim(now_ms());
    auto bytes = encode_checkpoint(takeover);
    if (!bytes)
      return error{shard + ": cannot encode the takeover: " + bytes.err().message};
    if (auto written = write_record(sink, outgoing_record{claim.shard().shard, record_kind::takeover, std::move(*bytes)},
                                    settings.confirm_timeout);
        !written)
      return error{shard + ": the takeover with epoch " + std::to_string(claim.epoch()) +
                   " was not written: " + written.err().message};
    // 3. Read on up to it.
    auto read = read_until(source, claim, settings.read_back_timeout, last_offset,
                           [&](std::string_view) { return claim.state() != shard_claim::outcome::waiting; });
    if (!read)
      return error{shard + ": " + read.err().message};
    if (!*read)
      return error{shard + ": the takeover with epoch " + std::to_string(claim.epoch()) +
                   " did not come back from the stream within " +
                   std::to_string(settings.read_back_timeout.count()) + " ms"};
    if (claim.state() == shard_claim::outcome::won)
      break;
    const auto& fence = claim.fold().fence();
    spdlog::warn("{}: the claim with epoch {} lost to {} (epoch {}); claiming again", shard, claim.epoch(),
                 fence ? fence->owner : std::string("?"), fence ? fence->epoch : 0);
  }
  // 4.
  auto restored = std::move(claim).finish();
  if (!restored)
    return restored.err();
  return stream_restored{std::move(*restored), last_offset};
}

} // namespace telluride
