#include "telluride/daemon/indexed_restore.hpp"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace telluride {

namespace {

/// Gives back the records already read, then reads on from `rest`.
class replaying_source final : public record_source {
public:
  replaying_source(std::vector<stream_record> first, record_source& rest) : first_(std::move(first)), rest_(rest) {}

  expected<std::vector<stream_record>> next(std::chrono::milliseconds timeout) override {
    if (!first_.empty())
      return std::exchange(first_, {});
    return rest_.next(timeout);
  }

private:
  std::vector<stream_record> first_;
  record_source& rest_;
};

/// What the attempts of one restore read and claimed.
struct restore_tally {
  std::uint64_t records_read = 0;
  std::uint64_t epoch = 0;  // the last claim's
  bool is_fold_problem = false;  // the last attempt's records do not fold
};

/// One restore with a claim of its own, reading `source`; adds what it did to `tally`.
expected<stream_restored> restore_attempt(record_source& source, record_sink& sink,
                                          const shard_restore_request& request, const restore_settings& settings,
                                          restore_tally& tally) {
  shard_claim claim{request.shard, request.owner, request.rules, request.id_capacity};
  auto restored = restore_from_stream(source, sink, claim, settings);
  tally.records_read += claim.records_read();
  tally.epoch = claim.epoch();
  tally.is_fold_problem = claim.fold().problem().has_value();
  return restored;
}

} // namespace

expected<indexed_restore_result> restore_indexed(const restore_start& start, const record_source_opener& open,
                                                 record_sink& sink, const shard_restore_request& request,
                                                 const restore_settings& settings) {
  const std::string shard = "shard " + std::to_string(request.shard.shard);
  restore_tally tally;
  std::string fell_back = start.why_first;
  if (start.entry) {
    const snapshot_index_entry& entry = *start.entry;
    auto source = open(entry.offset);
    if (!source)
      return error{shard + ": " + source.err().message};
    auto first = (*source)->next(settings.first_record_timeout);
    if (!first)
      return error{shard + ": " + first.err().message};
    std::optional<std::string> unusable;
    if (first->empty())
      unusable = "nothing is at offset " + std::to_string(entry.offset) + " (the stream ends before it)";
    else
      unusable = check_indexed_start(entry, first->front().offset, first->front().bytes);
    if (!unusable) {
      replaying_source replay{std::move(*first), **source};
      auto restored = restore_attempt(replay, sink, request, settings, tally);
      if (restored)
        return indexed_restore_result{std::move(*restored), tally.epoch, tally.records_read, entry.offset, {}};
      if (!tally.is_fold_problem)
        return restored.err();
      unusable = "the records from it do not fold: " + restored.err().message;
    }
    fell_back = "the indexed snapshot " + std::to_string(entry.sequence) + " at offset " +
                    std::to_string(entry.offset) + " cannot be used: " + *unusable;
    spdlog::warn("{}: {}; reading the state stream from its first record", shard, fell_back);
  } else {
    spdlog::info("{}: {}; reading the state stream from its first record", shard, fell_back);
  }
  auto source = open(std::nullopt);
  if (!source)
    return error{shard + ": " + source.err().message};
  auto restored = restore_attempt(**source, sink, request, settings, tally);
  if (!restored)
    return restored.err();
  return indexed_restore_result{std::move(*restored), tally.epoch, tally.records_read, std::nullopt,
                                std::move(fell_back)};
}

} // namespace telluride
