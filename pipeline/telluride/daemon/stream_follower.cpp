#include "telluride/daemon/stream_follower.hpp"

#include <causeway/thread_name.hpp>

#include <spdlog/spdlog.h>

#include <utility>

namespace telluride {

stream_follower::stream_follower(stream_follower_options options, record_source_opener open,
                                 std::shared_ptr<snapshot_index_store> store, std::shared_ptr<stream_meter> meter)
  : options_(std::move(options)),
    open_(std::move(open)),
    store_(std::move(store)),
    meter_(std::move(meter)),
    indexer_(options_.owner) {}

stream_follower::~stream_follower() {
  stop();
}

void stream_follower::start(std::int64_t from) {
  std::lock_guard joining(join_mutex_);
  if (thread_.joinable() || is_stopping_)
    return;
  thread_ = std::thread([this, from] { run(from); });
}

void stream_follower::stop() {
  std::lock_guard joining(join_mutex_);
  is_stopping_ = true;
  if (thread_.joinable())
    thread_.join();
}

follower_stats stream_follower::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void stream_follower::run(std::int64_t from) {
  causeway::name_this_thread("state-follower");
  using clock = std::chrono::steady_clock;
  std::optional<clock::time_point> stop_by;  // once stopping: catch up until then
  bool is_write_failing = false;
  std::int64_t next_offset = from;
  while (!stop_by || clock::now() < *stop_by) {
    auto source = open_(next_offset);
    if (!source) {
      spdlog::warn("the state stream follower cannot read on: {}; retrying", source.err().message);
      if (is_stopping_)
        return;
      std::this_thread::sleep_for(options_.reopen_after);
      continue;
    }
    for (;;) {
      if (is_stopping_ && !stop_by)
        stop_by = clock::now() + options_.catch_up;
      if (stop_by && clock::now() >= *stop_by)
        return;
      auto records = (*source)->next(options_.settle);
      if (!records) {
        spdlog::warn("the state stream follower lost the stream: {}; reading on from offset {}", records.err().message,
                     next_offset);
        std::this_thread::sleep_for(is_stopping_ ? std::chrono::milliseconds{0} : options_.reopen_after);
        break;
      }
      if (records->empty()) {
        if (stop_by)
          return;  // caught up with what the last round wrote
        continue;
      }
      for (const auto& record : *records) {
        if (record.offset >= 0)
          next_offset = record.offset + 1;
        auto entry = indexer_.read(record.offset, record.bytes);
        if (!indexer_.last_was_own())  // this daemon's own: its writer counted them as the broker confirmed them
          meter_->add_record(record.bytes.size());
        const auto& broken = indexer_.last_break();
        if (broken) {
          spdlog::warn("shard {}: records {}..{} this daemon wrote are missing from the state stream though the "
                       "broker confirmed them (delta {} at offset {} follows them); its next checkpoint is a snapshot",
                       broken->shard.shard, broken->first_missing, broken->delta - 1, broken->delta, record.offset);
          if (options_.on_break)
            options_.on_break(*broken);
        }
        bool is_indexed = false;
        if (entry && record.offset >= 0) {
          auto written = store_->write(*entry);
          if (!written && !is_write_failing)
            spdlog::warn("shard {}: snapshot {} at offset {} could not be indexed: {}", entry->shard, entry->sequence,
                         entry->offset, written.err().message);
          is_write_failing = !written;
          is_indexed = written.has_value();
        }
        std::lock_guard lock(mutex_);
        ++stats_.records;
        stats_.last_offset = record.offset;
        if (is_indexed) {
          ++stats_.indexed;
          stats_.last_indexed_offset = record.offset;
        }
      }
    }
  }
}

} // namespace telluride
