// checkpoint_round.hpp — one checkpoint round of durable mode: the acknowledgements the ack
// gate holds go to the broker once the state holding their effect is in the state stream
// (docs/checkpoints.md, Durable mode).
//
//   1. seal a round of the gate: every acknowledgement held until now belongs to it (each
//      was made after its reading was applied, so the state read next holds its effect);
//   2. each shard of the tracker, under its lock: a snapshot or a delta (its shard_chain says
//      which), or nothing when it changed nothing and no record is due;
//   3. the records are encoded and published in one batch (record_sink), and the round waits
//      for the broker's confirms, at most `confirm_timeout`;
//   4. all confirmed: the round is released (its acknowledgements go to their channels).
//      Otherwise nothing is released (the next successful round releases it too) and each
//      shard that wrote in this round writes a snapshot next. A record the broker confirmed
//      but routed to no queue (the stream was deleted, or its binding) is not in the stream:
//      the round fails as well, and the sink declares the stream again first, so that the
//      next round's snapshots hold everything the lost records held.
// No broker, no clock of its own: the sink is an interface, the time comes in.
#pragma once

#include "telluride/daemon/sensor_tracker.hpp"
#include "telluride/state/checkpoint_record.hpp"
#include "telluride/state/shard_chain.hpp"

#include <causeway/ack_gate.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace telluride {

/// A record on its way to the stream, with what its AMQP headers say (`shard`, `kind`).
struct outgoing_record {
  std::uint32_t shard = 0;
  record_kind kind = record_kind::snapshot;
  std::string bytes;
};

/// How the broker answered a batch of records.
enum class sink_answer : std::uint8_t {
  confirmed,  ///< every record is in the stream
  refused,    ///< one was refused, or could not be sent
  unrouted,   ///< confirmed, but one reached no queue: the stream, or its binding, is gone
};

/// Where records go: the state stream (state_stream.hpp), or a test's recorder.
class record_sink {
public:
  virtual ~record_sink() = default;
  /// Publishes `records` in order. `done` runs once: inside this call, or later on the thread
  /// `post` runs its work on.
  virtual void publish(std::vector<outgoing_record> records, std::function<void(sink_answer)> done) = 0;
  /// Runs `work` on the thread that answers publish (for the state stream: its connection's
  /// thread), in the order posted; false, dropping it, once that thread has stopped. The
  /// checkpoint writer runs its rounds there, so a confirm reaches the round on the thread it
  /// arrives on.
  virtual bool post(std::function<void()> work) = 0;
  /// On the thread `post` runs its work on, only: runs `work` there once `due` has come,
  /// instead of what an earlier call set (a sink keeps one alarm); empty `work`: none. The
  /// checkpoint writer keeps its time so (its interval, a round's confirm timeout), on the loop
  /// that wakes for its rounds anyway rather than on a thread that would wake it.
  virtual void set_alarm(std::chrono::steady_clock::time_point due, std::function<void()> work) = 0;
  /// After an unrouted answer: declares the stream and its binding again, so that the next
  /// records reach it. One-line error.
  virtual expected<void> declare_again() { return {}; }
};

/// Publishes `records` and waits for the sink's answer, at most `timeout`: none when it did
/// not come in time (a late answer then changes nothing).
std::optional<sink_answer> publish_and_wait(record_sink& sink, std::vector<outgoing_record> records,
                                            std::chrono::milliseconds timeout);

/// Publishes one record (a takeover, a release) and waits for the broker's answer, at most
/// `timeout`; one-line error when it is not in the stream.
expected<void> write_record(record_sink& sink, outgoing_record record, std::chrono::milliseconds timeout);

/// What a round did.
struct round_outcome {
  bool ok = true;
  std::string problem;        ///< when !ok: one line
  std::uint64_t snapshots = 0;
  std::uint64_t deltas = 0;
  std::uint64_t bytes = 0;    ///< of the records written
  std::uint64_t released = 0; ///< acknowledgements let through
};

/// A round between steps 2 and 3: sealed, its records encoded, the broker not asked yet.
/// `records` go to the sink; the rest waits for its answer (finish_checkpoint_round).
struct sealed_round {
  struct written_record {
    std::size_t chain = 0;  ///< position in the chains the round began with
    record_header header;
    std::size_t size = 0;
  };
  std::uint64_t number = 0;  ///< the gate's round
  std::vector<written_record> written;
  std::vector<outgoing_record> records;
  round_outcome outcome;     ///< !ok when encoding failed: publish nothing, finish at once
};

/// Steps 1 and 2 over `chains`: each is the chain of the tracker's slot of its shard (slot 0
/// when the tracker has one).
sealed_round begin_checkpoint_round(causeway::ack_gate& gate, sensor_tracker& tracker,
                                    std::vector<shard_chain>& chains, std::int64_t now_ms);

/// Step 4, once the sink answered (`answer`), or did not within `confirm_timeout` (none).
/// `chains` hold the round's chains at the positions it began with (more may follow them).
round_outcome finish_checkpoint_round(sealed_round& round, std::optional<sink_answer> answer, causeway::ack_gate& gate,
                                      std::vector<shard_chain>& chains, record_sink& sink,
                                      std::chrono::milliseconds confirm_timeout);

/// One whole round, waiting for the sink on this thread (never the sink's own).
round_outcome run_checkpoint_round(causeway::ack_gate& gate, sensor_tracker& tracker, std::vector<shard_chain>& chains,
                                   record_sink& sink, std::chrono::milliseconds confirm_timeout, std::int64_t now_ms);

} // namespace telluride
