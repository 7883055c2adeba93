#include "telluride/daemon/checkpoint_round.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

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

sealed_round begin_checkpoint_round(causeway::ack_gate& gate, sensor_tracker& tracker,
                                    std::vector<shard_chain>& chains, std::int64_t now_ms) {
  sealed_round round;
  round.number = gate.seal();
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
    if (!*bytes) {
      chain.failed();
      for (const auto& w : round.written)
        chains[w.chain].failed();
      round.written.clear();
      round.records.clear();
      round.outcome = round_outcome{};
      round.outcome.ok = false;
      round.outcome.problem =
        "cannot encode the checkpoint of shard " + std::to_string(chain.shard().shard) + ": " + bytes->err().message;
      return round;
    }
    round.written.push_back({i, header, (*bytes)->size()});
    (header.kind == record_kind::snapshot ? round.outcome.snapshots : round.outcome.deltas) += 1;
    round.outcome.bytes += (*bytes)->size();
    round.records.push_back(outgoing_record{chain.shard().shard, header.kind, std::move(**bytes)});
  }
  return round;
}

round_outcome finish_checkpoint_round(sealed_round& round, std::optional<sink_answer> answer, causeway::ack_gate& gate,
                                      std::vector<shard_chain>& chains, record_sink& sink,
                                      std::chrono::milliseconds confirm_timeout) {
  round_outcome& out = round.outcome;
  if (!out.ok)
    return out;  // encoding failed: its chains know already
  auto fail = [&](std::string problem) {
    for (const auto& w : round.written)
      chains[w.chain].failed();
    out.ok = false;
    out.problem = std::move(problem);
    return out;
  };
  if (!round.written.empty()) {
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
    for (const auto& w : round.written)
      grown += stream_meter::counted_bytes(w.size);
    for (auto& chain : chains)
      chain.stream_grew(grown);
    for (const auto& w : round.written)
      chains[w.chain].confirmed(w.header, w.size);
  }
  out.released = gate.release(round.number);
  return out;
}

round_outcome run_checkpoint_round(causeway::ack_gate& gate, sensor_tracker& tracker, std::vector<shard_chain>& chains,
                                   record_sink& sink, std::chrono::milliseconds confirm_timeout, std::int64_t now_ms) {
  sealed_round round = begin_checkpoint_round(gate, tracker, chains, now_ms);
  std::optional<sink_answer> answer;
  if (round.outcome.ok && !round.records.empty())
    answer = publish_and_wait(sink, std::exchange(round.records, {}), confirm_timeout);
  return finish_checkpoint_round(round, answer, gate, chains, sink, confirm_timeout);
}

} // namespace telluride
