// Durable mode restores from the shard's indexed snapshot (docs/checkpoints.md, Finding the
// latest snapshot): a daemon restarted after many checkpoints reads only the records from its
// latest snapshot on (a count this test knows exactly from the stream), and the aggregates are
// exact; without the index it reads the stream from the first record, as exactly.
#include "daemon_checks.hpp"

#include "../integration/telluride/stream_reader.hpp"

#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/snapshot_index.hpp"

#include <causeway/amqp/queue_peek.hpp>

#include <algorithm>

#include <doctest/doctest.h>

// Its own namespace: the unity build compiles several test files as one.
namespace restore_index_e2e {

using namespace telluride::test;

namespace {

struct stream_entry {
  std::int64_t offset = 0;
  telluride::record_kind kind = telluride::record_kind::snapshot;
  std::uint64_t epoch = 0;
};

double highest_epoch(const std::vector<stream_entry>& records) {
  std::uint64_t highest = 0;
  for (const auto& r : records)
    highest = std::max(highest, r.epoch);
  return static_cast<double>(highest);
}

/// Every record of `stream`, in order, with its offset and kind (read until quiet).
std::vector<stream_entry> read_stream(const std::string& stream) {
  stream_reader reader{env_or_fail("TELLURIDE_TEST_AMQP_URL"), stream, std::string("first"), 100};
  std::vector<stream_entry> out;
  while (auto d = reader.next(1500ms)) {
    auto header = telluride::decode_checkpoint_header(d->body);
    REQUIRE_MESSAGE(header.has_value(), (header ? std::string() : header.err().message));
    REQUIRE(d->offset.has_value());
    out.push_back({*d->offset, header->kind, header->epoch});
    reader.ack(d->delivery_tag);
  }
  return out;
}

/// The index entry of shard 0 of a layout of 1.
std::optional<telluride::snapshot_index_entry> index_entry(e2e::broker_admin& admin, const std::string& stream) {
  auto got = causeway::amqp::peek_message(admin.connection(), stream + ".index.1.0");
  REQUIRE_MESSAGE(got.has_value(), (got ? std::string() : got.err().message));
  if (!got->has_value())
    return std::nullopt;
  auto entry = telluride::decode_index_entry(**got);
  REQUIRE_MESSAGE(entry.has_value(), (entry ? std::string() : entry.err().message));
  return *entry;
}

/// Publishes readings [from, to) of `set` and waits until the aggregates are those of [0, to).
void feed(amqp_session& s, daemon_process& d, reading_set& set, std::size_t from, std::size_t to) {
  publish_readings(s, d, set, from, to);
  aggregate_view view;
  CHECK(eventually([&] { view.update(s, d); return view.matches(set.expected(to)); }, 60s));
  view.check(set.expected(to));
}

} // namespace

TEST_CASE("a daemon restarted after many checkpoints restores from its indexed snapshot and reads only what follows") {
  // Rounds every 5 ms: many small deltas.
  daemon_process d{"restoreidx" + std::to_string(::getpid()), {{"checkpoint_interval_ms", 5}}};
  const auto stream = nlohmann::json::parse(std::ifstream(d.config_path()))["state_stream"].get<std::string>();
  e2e::broker_admin admin;
  amqp_session s{env_or_fail("TELLURIDE_TEST_AMQP_URL")};
  reading_set set{40, 6000, 29, "restoreidx"};

  d.start();  // a fresh stream: no index yet
  CHECK(d.log().find("shard 0: the snapshot index cannot be read: peek at queue \"" + stream +
                     ".index.1.0\": NOT_FOUND") != std::string::npos);
  for (std::size_t at = 0; at < 2000; at += 100)
    feed(s, d, set, at, at + 100);
  CHECK(d.stop() == std::optional<int>{0});

  d.start();  // restores from the first run's snapshot, then writes its own
  CHECK(d.log().find("from the indexed snapshot at offset") != std::string::npos);
  for (std::size_t at = 2000; at < 4000; at += 100)
    feed(s, d, set, at, at + 100);
  CHECK(d.stop() == std::optional<int>{0});

  // What the stream holds, and where the index says the latest snapshot is.
  const auto records = read_stream(stream);
  const auto entry = index_entry(admin, stream);
  REQUIRE(entry.has_value());
  std::int64_t latest_snapshot = -1;
  for (const auto& r : records)
    if (r.kind == telluride::record_kind::snapshot)
      latest_snapshot = r.offset;
  CHECK(entry->offset == latest_snapshot);
  std::size_t since_snapshot = 0;
  for (const auto& r : records)
    since_snapshot += r.offset >= entry->offset ? 1 : 0;
  MESSAGE("the stream holds ", records.size(), " records, ", since_snapshot, " from the latest snapshot on");
  REQUIRE(since_snapshot > 20);                   // the second run's rounds: a delta or more per feed
  REQUIRE(records.size() > since_snapshot + 20);  // and the first run's, which are not read again

  d.start();
  // The snapshot, every record after it, and the new claim read back: one claim, or one more
  // for each claim that lost (it went out before the restore had read to the end: the epochs
  // tell how many).
  const auto claims = static_cast<std::size_t>(metric_of(d.port(), "telluride_owner_epoch") - highest_epoch(records));
  CHECK(claims >= 1);
  const std::string read_line = std::to_string(since_snapshot + claims) +
                                " records read from the indexed snapshot at offset " + std::to_string(entry->offset);
  CHECK_MESSAGE(d.log().find(read_line) != std::string::npos, d.log());
  CHECK(metric_of(d.port(), "telluride_restore_records") == static_cast<double>(since_snapshot + claims));
  CHECK(metric_of(d.port(), "telluride_restored_sensors") == 40);
  feed(s, d, set, 4000, 5000);
  CHECK(d.stop() == std::optional<int>{0});

  // Without the index: the whole stream, as exactly.
  REQUIRE(causeway::amqp::delete_queue(admin.connection(), stream + ".index.1.0").has_value());
  const auto before_fallback = read_stream(stream);
  d.start();
  CHECK(d.log().find("shard 0: the snapshot index cannot be read: peek at queue \"" + stream +
                     ".index.1.0\": NOT_FOUND") != std::string::npos);
  const auto fallback_claims =
    static_cast<std::size_t>(metric_of(d.port(), "telluride_owner_epoch") - highest_epoch(before_fallback));
  CHECK(fallback_claims >= 1);
  const std::size_t all = before_fallback.size() + fallback_claims;
  CHECK_MESSAGE(d.log().find(std::to_string(all) + " records read from the first record") != std::string::npos,
                d.log());
  CHECK(metric_of(d.port(), "telluride_restore_records") == static_cast<double>(all));
  feed(s, d, set, 5000, 6000);
  CHECK(d.stop() == std::optional<int>{0});
  // The run without the index indexed its own snapshot again.
  CHECK(index_entry(admin, stream).has_value());
}

} // namespace restore_index_e2e
