#include "telluride/daemon/checkpoint_round.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace telluride {

namespace {

/// The outcome a sink reports, waited for with a timeout; a late report finds nobody waiting
/// and changes nothing.
class confirmation {
public:
  void set(sink_answer answer) {
    std::lock_guard lock(mutex_);
    if (!answer_)
      answer_ = answer;
    done_.notify_all();
  }
  /// The outcome, or nothing when none came within `timeout`.
  std::optional<sink_answer> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    done_.wait_for(lock, timeout, [this] { return answer_.has_value(); });
    return answer_;
  }

private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::optional<sink_answer> answer_;
};

struct pending_record {
  std::size_t chain = 0;
  record_header header;
};

} // namespace

std::optional<sink_answer> publish_and_wait(record_sink& sink, std::vector<outgoing_record> records,
                                            std::chrono::milliseconds timeout) {
  auto answered = std::make_shared<confirmation>();
  sink.publish(std::move(records), [answered](sink_answer answer) { answered->set(answer); });
  return answered->wait(timeout);
}

expected<void> write_record(record_sink& sink, outgoing_record record, std::chrono::milliseconds timeout) {
  std::vector<outgoing_record> records;
  records.push_back(std::move(record));
  const auto answer = publish_and_wait(sink, std::move(records), timeout);
  if (!answer)
    return error{"the broker did not confirm it within " + std::to_string(timeout.count()) + " ms"};
  if (*answer == sink_answer::refused)
    return error{"the broker refused it"};
  if (*answer == sink_answer::unrouted)
    return error{"the broker routed it to no queue (the state stream, or its binding to its exchange, is gone)"};
  return {};
}

round_outcome run_checkpoint_round(causeway::ack_gate& gate, sensor_tracker& tracker, std::vector<shard_chain>& chains,
                                   record_sink& sink, std::chrono::milliseconds confirm_timeout, std::int64_t now_ms) {
  round_outcome out;
  const std::uint64_t round = gate.seal();
  std::vector<pending_record> written;
  std::vector<outgoing_record> records;
  auto fail = [&](std::string problem) {
    for (const auto& w : written)
      chains[w.chain].failed();
    out.ok = false;
    out.problem = std::move(problem);
    return out;
  };
  for (std::size_t i = 0; i < chains.size(); ++i) {
    shard_chain& chain = chains[i];
    // A layout of 1 has one tracker slot; a layout of K has K, one per shard queue.
    const std::size_t slot = tracker.shard_count() == 1 ? 0 : chain.shard().shard;
    if (slot >= tracker.shard_count())
      continue;
    record_header header;
    std::optional<expected<std::string>> bytes;
    tracker.with_shard(slot, [&](shard_state& state) {
      if (!state.has_changes() && !chain.is_due())
        return;
      header = chain.next(chain.wants_snapshot() ? record_kind::snapshot : record_kind::delta, now_ms);
      bytes = state.encode_image(header);  // under the lock, straight into the record's bytes
    });
    if (!bytes)
      continue;
    written.push_back(pending_record{i, header});
    if (!*bytes)
      return fail("cannot encode the checkpoint of shard " + std::to_string(chain.shard().shard) + ": " +
                  bytes->err().message);
    (header.kind == record_kind::snapshot ? out.snapshots : out.deltas) += 1;
    out.bytes += (*bytes)->size();
    records.push_back(outgoing_record{chain.shard().shard, header.kind, std::move(**bytes)});
  }

  if (!records.empty()) {
    std::vector<std::size_t> sizes;
    for (const auto& r : records)
      sizes.push_back(r.bytes.size());
    const auto answer = publish_and_wait(sink, std::move(records), confirm_timeout);
    if (!answer)
      return fail("the broker did not confirm the checkpoint within " + std::to_string(confirm_timeout.count()) +
                  " ms");
    if (*answer == sink_answer::refused)
      return fail("the broker refused the checkpoint (or the publishing connection closed)");
    if (*answer == sink_answer::unrouted) {
      const std::string lost = "the broker routed the checkpoint to no queue (the state stream, or its binding to "
                               "its exchange, is gone)";
      auto declared = sink.declare_again();
      return fail(declared ? lost + "; declared them again: the next round writes snapshots"
                           : lost + ", and declaring them again failed: " + declared.err().message);
    }
    std::uint64_t grown = 0;
    for (std::size_t size : sizes)
      grown += stream_meter::counted_bytes(size);
    for (auto& chain : chains)
      chain.stream_grew(grown);
    for (std::size_t k = 0; k < written.size(); ++k)
      chains[written[k].chain].confirmed(written[k].header, sizes[k]);
  }
  out.released = gate.release(round);
  return out;
}

} // namespace telluride
