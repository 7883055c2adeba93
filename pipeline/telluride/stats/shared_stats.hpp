// shared_stats.hpp — the daemon's statistics in shared memory, for `telluride stats`.
//
// Each running daemon owns one POSIX shared-memory object, /telluride-<pid>, holding one
// `shared_stats_record` that it rewrites (seqlock) every 250 ms. `telluride stats`
// reads every such object without talking to the daemons; a record whose pid is gone is stale
// and removed by the reader. Layout is versioned: readers skip records of another version.
//
// The name prefix is `telluride-` unless the environment variable TELLURIDE_SHM_PREFIX sets
// another (letters, digits, `.`, `_`, `-`): tests give daemons and readers their own prefix
// so that they never see a daemon running beside them. The segment's layout and the seqlock
// are in shared_stats_layout.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

struct shared_stats_record {
  std::uint32_t layout_version = 1;
  std::int32_t pid = 0;
  std::int64_t started_ms = 0;    ///< epoch ms
  std::int64_t updated_ms = 0;    ///< epoch ms of this record
  std::uint64_t config_version = 0;
  std::uint64_t consumed = 0;     ///< readings finished (successful + failed)
  std::uint64_t successful = 0;
  std::uint64_t failed = 0;
  std::uint64_t duplicates = 0;   ///< redeliveries recognised by message_id
  std::uint64_t in_flight = 0;    ///< messages inside the pipeline now
  std::uint64_t sensors = 0;      ///< sensors with an aggregate
  std::uint64_t alerts = 0;
  std::uint64_t reconnects = 0;
  double messages_per_second = 0;
  std::uint32_t ready = 0;        ///< 1 while consuming
  char amqp_url[256] = {};        ///< password masked
  char http_listen[64] = {};
};

/// `telluride-`, or TELLURIDE_SHM_PREFIX when set and valid.
std::string shared_stats_prefix();

/// The daemon's side: creates /<prefix><pid> and removes it when destroyed. One writer per
/// object; `write` may be called from any one thread at a time.
class shared_stats_writer {
public:
  /// Returns nullptr (and the reason in `error`) when shared memory is not available; the
  /// daemon then runs without it.
  static std::unique_ptr<shared_stats_writer> create(std::string& error);
  /// Same with an explicit name prefix (tests).
  static std::unique_ptr<shared_stats_writer> create(std::string& error, std::string_view prefix);
  ~shared_stats_writer();
  shared_stats_writer(const shared_stats_writer&) = delete;
  shared_stats_writer& operator=(const shared_stats_writer&) = delete;

  /// Publishes `record` (its layout_version and pid are set by the writer; strings are cut to
  /// fit and always NUL-terminated). Never blocks the reader, never waits for it.
  void write(const shared_stats_record& record);
  /// The object's name, e.g. `/telluride-1234`.
  const std::string& name() const noexcept;

  struct impl;
  explicit shared_stats_writer(std::unique_ptr<impl> state);

private:
  std::unique_ptr<impl> impl_;
};

/// The reader's side: every live daemon's record, consistent (retries torn reads), ordered
/// by pid. Objects of dead processes are removed; other layout versions and objects still
/// being created are skipped.
std::vector<shared_stats_record> read_shared_stats();
/// Same for an explicit name prefix (tests).
std::vector<shared_stats_record> read_shared_stats(std::string_view prefix);

} // namespace telluride
