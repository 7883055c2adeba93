// bench_restore — restoring one shard of --sensors sensors from the state stream of a real
// broker, from the shard's indexed snapshot and from the stream's first record, with the
// daemon's own code (docs/checkpoints.md, Finding the latest snapshot).
//
//   bench_restore --url URL [--sensors 100000] [--deltas 20] [--old-snapshots 4]
//                 [--old-deltas 400] [--rounds 3] [--stream bench_restore_state] [--keep]
//
// Phase "fresh": the stream (deleted and declared again, with the daemon's retention) gets an
// owner's takeover, a snapshot of --sensors sensors (10 readings each, a window of 4,096 ids)
// and --deltas deltas of 1 % of the sensors each, published with confirms as the checkpoint
// writer does; the snapshot is indexed as the daemon's follower does (snapshot_indexer over the
// stream, snapshot_index_store). Phase "old": --old-snapshots more snapshots with --old-deltas
// deltas between them go in, then a last snapshot and --deltas deltas: the stream now holds
// many records ahead of the indexed snapshot. In each phase the shard is restored --rounds
// times from the index and --rounds times from the first record, as the daemon does at start
// (restore_indexed: read until 200 ms of quiet, claim, read the claim back), timing read_ms
// (from opening the reader until every record ahead of the restore is folded) and restore_ms
// (the whole restore, the claim included); medians are reported. The last stdout line is one
// JSON object: name "restore", msgs_per_s (sensors restored per second from the index in phase
// "old"), peak_rss_mib, ratio (read_ms from the first record / from the index, phase "old").
#include "support/bench_support.hpp"
#include "support/command_line.hpp"
#include "support/shard_fill.hpp"

#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/indexed_restore.hpp"
#include "telluride/daemon/snapshot_index_store.hpp"
#include "telluride/daemon/state_stream.hpp"
#include "telluride/state/shard_chain.hpp"
#include "telluride/state/snapshot_indexer.hpp"

#include <causeway/amqp/publisher.hpp>
#include <causeway/amqp/topology_declaration.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace telluride;
namespace amqp = causeway::amqp;
using clock_type = std::chrono::steady_clock;

struct settings {
  std::string url;
  std::size_t sensors = 100000;
  int deltas = 20;
  int old_snapshots = 4;
  int old_deltas = 400;
  int rounds = 3;
  std::string stream = "bench_restore_state";
  bool keep = false;
};

constexpr shard_identity the_shard{1, 0};
const std::string writer_name = "bench-writer";

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bench_restore: %s\n", why.c_str());
  std::printf("%s\n", nlohmann::json{{"name", "restore"}, {"error", why}}.dump().c_str());
  std::exit(1);
}

double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

amqp::connection_options connection_named(const settings& s, const std::string& name) {
  amqp::connection_options o;
  o.url = s.url;
  o.name = name;
  return o;
}

/// The owner of the shard, writing as the checkpoint writer does: its takeover, then snapshots
/// and deltas of a live state (shard_chain), each confirmed before the next.
class shard_writer {
public:
  shard_writer(stream_record_sink& sink, std::size_t sensors) : sink_(sink), sensors_(sensors) {
    publish(*encode_checkpoint(takeover_record(the_shard, writer_name, 1, 0, std::nullopt, wall_ms())));
    bench::apply_readings(state_, 0, sensors, 10, next_id_);
  }

  /// Claims the shard again after other owners' claims (the restores'): `epoch` above theirs,
  /// after the last sequence they read. The next record is a snapshot.
  void claim_again(std::uint64_t epoch, std::uint64_t last_read) {
    publish(*encode_checkpoint(takeover_record(the_shard, writer_name, epoch, last_read, std::nullopt, wall_ms())));
    chain_ = shard_chain{the_shard, writer_name, epoch, last_read, as_told()};
  }
  void snapshot() { write(record_kind::snapshot); }
  /// One more reading for 1 % of the sensors (the next ones in turn), then a delta.
  void delta() {
    const std::size_t changed = std::max<std::size_t>(1, sensors_ / 100);
    if (first_ + changed > sensors_)
      first_ = 0;
    bench::apply_readings(state_, first_, changed, 1, next_id_);
    first_ += changed;
    write(record_kind::delta);
  }
  std::uint64_t bytes() const noexcept { return bytes_; }

private:
  static snapshot_policy as_told() {  // the bench decides when to snapshot
    snapshot_policy p;
    p.max_deltas = std::numeric_limits<std::uint64_t>::max();
    p.delta_bytes_per_snapshot_byte = 1'000'000;
    p.max_stream_bytes = std::numeric_limits<std::uint64_t>::max();
    return p;
  }

  void write(record_kind kind) {
    checkpoint_record record;
    record.header = chain_.next(kind, wall_ms());
    record.image = kind == record_kind::snapshot ? state_.take_snapshot() : state_.take_delta();
    auto bytes = encode_checkpoint(record);
    if (!bytes)
      die(bytes.err().message);
    const std::size_t size = bytes->size();
    publish(std::move(*bytes));
    chain_.confirmed(record.header, size);
  }

  void publish(std::string bytes) {
    const auto kind = decode_checkpoint_header(bytes)->kind;
    bytes_ += bytes.size();
    std::vector<outgoing_record> records;
    records.push_back(outgoing_record{the_shard.shard, kind, std::move(bytes)});
    auto done = std::make_shared<std::promise<bool>>();
    auto outcome = done->get_future();
    sink_.publish(std::move(records), [done](sink_answer answer) { done->set_value(answer == sink_answer::confirmed); });
    if (outcome.wait_for(std::chrono::seconds{60}) != std::future_status::ready || !outcome.get())
      die("a record was not confirmed");
  }

  stream_record_sink& sink_;
  std::size_t sensors_;
  shard_state state_{alert_rules{}, 4096};
  shard_chain chain_{the_shard, writer_name, 1, 0, as_told()};
  std::size_t next_id_ = 0;
  std::size_t first_ = 0;
  std::uint64_t bytes_ = 0;
};

/// How many records the stream holds, and how many of them from the indexed snapshot on.
struct stream_count {
  std::uint64_t records = 0;
  std::uint64_t from_snapshot = 0;
};

/// Reads the whole stream as the daemon's follower does and stores the writer's latest
/// indexable snapshot.
stream_count index_latest_snapshot(const settings& s, snapshot_index_store& store) {
  auto source = stream_record_source::open(connection_named(s, "bench-restore-indexer"), s.stream);
  if (!source)
    die(source.err().message);
  snapshot_indexer indexer{writer_name};
  std::optional<snapshot_index_entry> latest;
  std::uint64_t from_latest = 0;
  for (;;) {
    auto records = (*source)->next(std::chrono::milliseconds{1000});
    if (!records)
      die(records.err().message);
    if (records->empty())
      break;
    for (const auto& r : *records) {
      ++from_latest;
      if (auto entry = indexer.read(r.offset, r.bytes)) {
        latest = std::move(entry);
        from_latest = 1;
      }
    }
  }
  if (!latest)
    die("no snapshot to index");
  if (auto written = store.write(*latest); !written)
    die(written.err().message);
  return stream_count{indexer.records_read(), from_latest};
}

/// A reader that notes when the records ahead of the restore (`ahead` of them) are all folded:
/// when it is asked for more after delivering the last of them.
class timed_source final : public record_source {
public:
  timed_source(std::unique_ptr<record_source> inner, clock_type::time_point opened, std::uint64_t ahead,
               std::optional<double>& read_ms)
    : inner_(std::move(inner)), opened_(opened), ahead_(ahead), read_ms_(read_ms) {}

  expected<std::vector<stream_record>> next(std::chrono::milliseconds timeout) override {
    if (delivered_ >= ahead_ && !read_ms_)
      read_ms_ = std::chrono::duration<double, std::milli>(clock_type::now() - opened_).count();
    auto records = inner_->next(timeout);
    if (records)
      delivered_ += records->size();
    return records;
  }

private:
  std::unique_ptr<record_source> inner_;
  clock_type::time_point opened_;
  std::uint64_t ahead_;
  std::uint64_t delivered_ = 0;
  std::optional<double>& read_ms_;
};

struct restore_run {
  double restore_ms = 0;
  double read_ms = 0;
  std::uint64_t records = 0;
  std::uint64_t epoch = 0;     // the restore's claim
  std::uint64_t sequence = 0;  // the last sequence it read
  std::uint64_t claims = 0;    // written (a claim that lost is followed by another)
};

/// One restore; `stream` counts the records ahead of it (and gains its claim).
restore_run restore_once(const settings& s, snapshot_index_store& store, stream_record_sink& sink, bool from_index,
                         stream_count& stream) {
  const auto started = clock_type::now();
  std::optional<double> read_ms;
  const std::uint64_t ahead = from_index ? stream.from_snapshot : stream.records;
  record_source_opener open = [&](std::optional<std::int64_t> from) -> expected<std::unique_ptr<record_source>> {
    auto source = stream_record_source::open(connection_named(s, "bench-restore-reader"), s.stream, from);
    if (!source)
      return source.err();
    return std::unique_ptr<record_source>(std::make_unique<timed_source>(std::move(*source), started, ahead, read_ms));
  };
  const restore_start start =
    from_index ? plan_restore_start(the_shard, store.read(the_shard)) : restore_start{std::nullopt, "measured"};
  const shard_restore_request request{the_shard, "bench-restorer", alert_rules{}, 4096};
  auto restored = restore_indexed(start, open, sink, request, restore_settings{});
  const double took = ms_since(started);
  if (!restored)
    die(restored.err().message);
  if (from_index && !restored->started_at)
    die("the restore did not start at the indexed snapshot: " + restored->fell_back);
  // Its claims: one, or more when the broker paused longer than the restore's 200 ms of quiet
  // (on a large record) and the claim went out before the last claim was read, and lost.
  if (restored->records_read <= ahead)
    die("the restore read " + std::to_string(restored->records_read) + " records, fewer than the " +
        std::to_string(ahead + 1) + " ahead of it and its claim");
  const std::uint64_t claims = restored->records_read - ahead;
  stream.records += claims;
  stream.from_snapshot += claims;
  if (restored->restored.state.table().size() != s.sensors)
    die("restored " + std::to_string(restored->restored.state.table().size()) + " sensors, not " +
        std::to_string(s.sensors));
  return restore_run{took, read_ms.value_or(took), restored->records_read, restored->epoch,
                     restored->restored.sequence, claims};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Restores `rounds` times each way; the medians and the records read. `last` is the last run.
nlohmann::json measure(const settings& s, snapshot_index_store& store, stream_record_sink& sink,
                       stream_count stream, std::uint64_t stream_bytes, const char* phase, restore_run& last) {
  nlohmann::json out{{"records_in_stream", stream.records},
                     {"records_from_snapshot", stream.from_snapshot},
                     {"stream_mib", static_cast<double>(stream_bytes) / (1 << 20)}};
  for (bool from_index : {true, false}) {
    std::vector<double> restore_ms;
    std::vector<double> read_ms;
    std::uint64_t records = 0;
    std::uint64_t lost_claims = 0;
    for (int i = 0; i < s.rounds; ++i) {
      const restore_run run = restore_once(s, store, sink, from_index, stream);
      last = run;
      restore_ms.push_back(run.restore_ms);
      read_ms.push_back(run.read_ms);
      if (i == 0)
        records = run.records;
      lost_claims += run.claims - 1;
      std::fprintf(stderr, "%s, %s: restore %.0f ms (read %.0f ms), %llu records read\n", phase,
                   from_index ? "from the index" : "from the first record", run.restore_ms, run.read_ms,
                   static_cast<unsigned long long>(run.records));
    }
    out[from_index ? "indexed" : "first"] = {
      {"restore_ms", median(restore_ms)}, {"read_ms", median(read_ms)}, {"records_read", records},
      {"lost_claims", lost_claims}};
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Restoring a shard from the state stream: from its indexed snapshot and from the first record.",
               "bench_restore"};
  bench::last_one_wins(app);
  app.add_option("--url", s.url, "the broker (a private one: the stream is deleted first)")->required();
  app.add_option("--sensors", s.sensors, "sensors in the shard")->check(CLI::Range(1, 2'000'000));
  app.add_option("--deltas", s.deltas, "deltas after the indexed snapshot")->check(CLI::Range(0, 10'000));
  app.add_option("--old-snapshots", s.old_snapshots, "older snapshots ahead of it (phase old)")->check(CLI::Range(0, 50));
  app.add_option("--old-deltas", s.old_deltas, "older deltas ahead of it (phase old)")->check(CLI::Range(0, 100'000));
  app.add_option("--rounds", s.rounds, "restores each way; the median counts")->check(CLI::Range(1, 20));
  app.add_option("--stream", s.stream, "the stream (deleted and declared again)");
  app.add_flag("--keep", s.keep, "leave the stream and its index on the broker at the end");
  bench::parse_command_line(app, argc, argv, "restore");
  spdlog::set_level(spdlog::level::warn);

  auto admin = amqp::connection::open(connection_named(s, "bench-restore-admin"));
  if (!admin)
    die(admin.err().message);
  (void)amqp::delete_queue(**admin, s.stream);
  (void)amqp::delete_queue(**admin, snapshot_index_queue(s.stream, the_shard));
  amqp::topology_spec spec;
  spec.queues.push_back({s.stream, true, false, false,
                         {{"x-queue-type", std::string("stream")},
                          {"x-max-length-bytes", state_stream_max_bytes},
                          {"x-stream-max-segment-size-bytes", state_stream_segment_bytes}}});
  spec.exchanges.push_back({s.stream, "fanout", true, false, {}});
  spec.bindings.push_back({s.stream, s.stream, "", {}});
  if (auto declared = amqp::declare(**admin, spec); !declared)
    die(declared.err().message);

  amqp::publisher_options pub;
  pub.connection = connection_named(s, "bench-restore-writer");
  auto publisher = amqp::publisher::open(pub);
  if (!publisher)
    die(publisher.err().message);
  stream_record_sink sink{*publisher, s.stream};
  snapshot_index_store store{*publisher, s.stream};

  shard_writer writer{sink, s.sensors};
  writer.snapshot();
  for (int i = 0; i < s.deltas; ++i)
    writer.delta();
  const stream_count fresh_records = index_latest_snapshot(s, store);
  restore_run last;
  const nlohmann::json fresh = measure(s, store, sink, fresh_records, writer.bytes(), "fresh", last);

  // The restores claimed the shard: the writer claims it back, above them.
  writer.claim_again(last.epoch + 1, last.sequence);
  for (int n = 0; n < s.old_snapshots; ++n) {
    writer.snapshot();
    for (int i = 0; i < s.old_deltas / std::max(1, s.old_snapshots); ++i)
      writer.delta();
  }
  writer.snapshot();
  for (int i = 0; i < s.deltas; ++i)
    writer.delta();
  const stream_count old_records = index_latest_snapshot(s, store);
  const nlohmann::json old = measure(s, store, sink, old_records, writer.bytes(), "old", last);

  const double indexed_ms = old["indexed"]["restore_ms"].get<double>();
  const nlohmann::json report{
    {"name", "restore"},
    {"msgs_per_s", static_cast<double>(s.sensors) / (indexed_ms / 1e3)},
    {"peak_rss_mib", bench::peak_rss_mib()},
    {"ratio", old["first"]["read_ms"].get<double>() / old["indexed"]["read_ms"].get<double>()},
    {"sensors", s.sensors},
    {"deltas", s.deltas},
    {"fresh", fresh},
    {"old", old},
  };
  if (!s.keep) {
    (void)amqp::delete_queue(**admin, s.stream);
    (void)amqp::delete_queue(**admin, snapshot_index_queue(s.stream, the_shard));
  }
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
