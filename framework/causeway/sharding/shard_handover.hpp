// shard_handover.hpp — one shard's life on one process, as a value: whether this process holds
// the shard, what it is doing about it, and for each event the next phase and the steps the
// caller must execute, in order (the protocol of docs/sharding.md).
//
// Pure: no actors, no I/O, no clock of its own (events carry the time). The caller feeds it the
// assignment's verdict, the records of this shard it reads in the state stream (takeovers and
// releases, in stream order), the departures of members, and the outcomes of the steps it ran.
//
// A claim is a `takeover` record with an epoch above every epoch in the stream before it; the
// first such record in stream order wins. A claim whose epoch is not above the highest one
// before it lost (someone claimed first) and is ignored by every reader. `e` below is the epoch
// of this process's claim; `next` is one more than the highest epoch it knows of.
//
//   phase             event                                next phase (and the steps)
//   standby           assigned: the shard is free          restoring{next} (write takeover next,
//                     (released, never claimed, its                          restore up to it)
//                     holder gone, or an earlier life of
//                     this node name)
//   standby           assigned: another holds it           awaiting_release
//   awaiting_release  its release seen, or holder gone     restoring{next} (as above)
//   awaiting_release  unassigned                           standby
//   restoring{e}      restored                             active{e} (subscribe; taken)
//   restoring{e}      claim lost                           awaiting_release (or standby)
//   restoring{e}      unassigned                           releasing{e} (cancel restore, write release e)
//   active{e}         unassigned                           draining{e} (cancel consumer)
//   draining{e}       drained, assigned again              active{e} (subscribe; resumed)
//   draining{e}       drained                              checkpointing{e} (write final checkpoint)
//   checkpointing{e}  confirmed, assigned again            active{e} (acknowledge taken, subscribe;
//                                                                     resumed)
//   checkpointing{e}  confirmed                            releasing{e} (acknowledge taken, write
//                                                          release e, drop state)
//   releasing{e}      release confirmed                    standby; assigned again: a new claim, or
//                                                          awaiting_release if another claimed
//   restoring{e}      failed                               retrying (cancel restore, arm timer)
//   active, draining,
//   checkpointing{e}  failed                               retrying (close consumer, drop state, arm timer)
//   releasing{e}      failed                               retrying (arm timer)
//   retrying{e}       retry timer, assigned                restoring{next} (a new claim)
//   retrying{e}       retry timer, unassigned              releasing{e} (write release e)
//   restoring, active,
//   draining,
//   checkpointing,
//   retrying{e}       a takeover (or release) of another   fenced: cancel restore, or close consumer
//                     node with an epoch above e           and drop state; then awaiting_release
//                                                          (assigned) or standby
//
// Every other pair changes nothing: stale outcomes, a second failure while waiting to retry,
// assignment changes while a step is under way (the step's end reads the latest verdict).
// `cancel_consumer` (basic.cancel) lets the readings already taken finish and be acknowledged;
// `close_consumer` (channel.close) returns every unacknowledged reading to the queue, in its
// place, before the broker gives the queue to the next single active consumer; no reading of
// the shard is acknowledged after it.
#pragma once

#include "causeway/restart_backoff.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace causeway::sharding {

using handover_clock = std::chrono::steady_clock;

/// What this process knows of who holds the shard: the highest claim it read in the stream
/// (or confirmed itself), and whether that claim still holds.
struct shard_holder {
  std::uint64_t epoch = 0;  ///< the highest epoch claimed (0: never claimed)
  std::string name;         ///< the node that claimed it (empty: never claimed)
  bool is_held = false;     ///< false once released, or once its node is gone
  friend bool operator==(const shard_holder&, const shard_holder&) = default;
};

// The phases.
/// Not held here, and not assigned here (or the assignment was just withdrawn).
struct standby {};
/// Assigned here; another node holds the shard (holder()) and has neither released it nor gone.
struct awaiting_release {};
/// This node wrote takeover `epoch` and reads the stream up to it; nothing is consumed yet.
struct restoring {
  std::uint64_t epoch = 0;
  handover_clock::time_point since{};
};
/// Consuming the shard's queue and applying its readings, checkpointed under `epoch`.
struct active {
  std::uint64_t epoch = 0;
};
/// The consumer is cancelled; the readings taken before it are being applied.
struct draining {
  std::uint64_t epoch = 0;
};
/// The final checkpoint (everything applied) is written; waiting for the broker's confirm.
struct checkpointing {
  std::uint64_t epoch = 0;
};
/// The release record is written; waiting for the broker's confirm.
struct releasing {
  std::uint64_t epoch = 0;
};
/// A step failed while this node held the shard under `epoch`; the retry timer is armed.
struct retrying {
  std::uint64_t epoch = 0;
  std::uint64_t attempt = 0;
};
using handover_phase = std::variant<standby, awaiting_release, restoring, active, draining,
                                    checkpointing, releasing, retrying>;

std::string_view name_of(const handover_phase& phase) noexcept;

// The steps the caller executes.
/// Publish a takeover record for the shard with this epoch (its fence).
struct write_takeover {
  std::uint64_t epoch = 0;
};
/// Read the shard's latest snapshot and the records after it up to the takeover of `epoch`
/// written by this node; report on_restored, on_claim_lost or on_failed.
struct restore {
  std::uint64_t epoch = 0;
};
/// Stop the restore under way and forget what it folded.
struct cancel_restore {};
/// Consume the shard's queue (single active consumer) into the restored state.
struct subscribe {};
/// basic.cancel: nothing more is delivered; report on_drained once every reading delivered
/// before the cancel-ok is applied.
struct cancel_consumer {};
/// channel.close: unacknowledged readings go back to the queue; acknowledge nothing more.
struct close_consumer {};
/// Publish a checkpoint holding everything applied; report on_final_checkpoint_confirmed.
struct write_final_checkpoint {
  std::uint64_t epoch = 0;
};
/// Acknowledge every reading taken (all are in confirmed checkpoints now).
struct acknowledge_taken {};
/// Publish a release record for the shard with this epoch; report on_release_confirmed.
struct write_release {
  std::uint64_t epoch = 0;
};
/// Forget the shard's state in memory.
struct drop_state {};
/// Call on_retry_timer(attempt) after `delay`.
struct arm_retry_timer {
  std::chrono::milliseconds delay{0};
  std::uint64_t attempt = 0;
};
/// One log line: taken (with the restore time), resumed, released, fenced, claim lost, failed.
enum class handover_news : std::uint8_t { taken, resumed, released, fenced, claim_lost, failed };
struct announce {
  handover_news what;
  std::uint64_t epoch = 0;
  std::string detail;
  std::chrono::milliseconds took{0};  ///< taken: from the claim to the end of the restore
};
using handover_step =
  std::variant<write_takeover, restore, cancel_restore, subscribe, cancel_consumer, close_consumer,
               write_final_checkpoint, acknowledge_taken, write_release, drop_state,
               arm_retry_timer, announce>;
using handover_steps = std::vector<handover_step>;

class shard_handover {
public:
  /// The life of one shard on the node named `self` (the name its records carry).
  explicit shard_handover(std::string self, restart_backoff::options retry = {});

  /// The assignment gives the shard to this node / to another one.
  handover_steps on_assigned(handover_clock::time_point now);
  handover_steps on_unassigned();

  /// Records of this shard read from the stream, in stream order (also this node's own).
  handover_steps on_takeover_seen(std::string_view node, std::uint64_t epoch,
                                  handover_clock::time_point now);
  handover_steps on_release_seen(std::string_view node, std::uint64_t epoch,
                                 handover_clock::time_point now);
  /// `node` is gone (membership::is_gone): its claims no longer hold. Call it for every node
  /// that leaves, and for holder().name when it is gone though never heard (after a start).
  handover_steps on_node_gone(std::string_view node, handover_clock::time_point now);

  /// Outcomes of the steps.
  handover_steps on_restored(handover_clock::time_point now);
  /// The restore met a takeover by `winner` with `epoch` >= ours before our own.
  handover_steps on_claim_lost(std::string_view winner, std::uint64_t epoch,
                               handover_clock::time_point now);
  handover_steps on_drained();
  handover_steps on_final_checkpoint_confirmed();
  handover_steps on_release_confirmed(handover_clock::time_point now);
  /// A step failed, or the connection or channel the shard depends on did (`reason`).
  handover_steps on_failed(std::string_view reason, handover_clock::time_point now);
  handover_steps on_retry_timer(std::uint64_t attempt, handover_clock::time_point now);

  const handover_phase& phase() const noexcept { return phase_; }
  const shard_holder& holder() const noexcept { return holder_; }
  bool is_assigned() const noexcept { return is_assigned_; }
  /// As GET /api/shards reports it: "standby", "restoring", "active" or "handing_over".
  std::string_view reported_state() const noexcept;

private:
  std::uint64_t held_epoch() const noexcept;  // the epoch of our claim, 0 when we hold none
  bool can_claim() const noexcept;
  void pursue(handover_clock::time_point now, handover_steps& out);
  void claim(handover_clock::time_point now, handover_steps& out);
  void fence(std::string_view node, std::uint64_t epoch, handover_clock::time_point now,
             handover_steps& out);
  void retry(std::uint64_t epoch, std::string_view reason, handover_clock::time_point now,
             handover_steps& out);

  std::string self_;
  handover_phase phase_ = standby{};
  shard_holder holder_;
  bool is_assigned_ = false;       // the latest verdict of the assignment
  std::uint64_t own_epoch_ = 0;    // the epoch of this node's latest takeover
  std::uint64_t attempt_ = 0;      // of the retry timer: stale timers change nothing
  restart_backoff backoff_;
};

} // namespace causeway::sharding
