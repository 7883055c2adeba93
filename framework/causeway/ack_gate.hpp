// ack_gate.hpp — acknowledgements held until the state they changed is durable.
//
// A pipeline that keeps state (aggregates, counters) and checkpoints it must not acknowledge a
// message before a checkpoint holds its effect: a crash would lose the effect while the source
// forgets the message (Kafka Streams commits offsets after flushing state for the same
// reason). The gate sits between the stages and the source's acknowledger: `wrap` gives the
// source an acknowledger that holds every acknowledgement in the gate, and the checkpointing
// code runs rounds:
//
//   round = gate.seal();        // what was acknowledged until now belongs to `round`
//   write the state changed since the previous round, wait until it is durable
//   gate.release(round);        // those acknowledgements go to the source now
//
// Why this is enough: a stage acknowledges a message only after its handler applied it, so
// everything held when `seal` runs was applied before the state is read for that round, and
// that round's checkpoint holds its effect. What arrives after `seal` waits for the next round.
// A round that failed releases nothing; the next successful round releases it too.
//
// Thread-safe. Held acknowledgements keep only what the source needs (per acknowledger, the
// tags and epochs; a failure's reason and redelivered flag too), not the payload.
#pragma once

#include "causeway/acknowledger.hpp"
#include "causeway/message.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace causeway {

class ack_gate : public std::enable_shared_from_this<ack_gate> {
public:
  /// An acknowledger that holds what it is given in this gate until the round it belongs to is
  /// released; then `inner` gets it.
  std::shared_ptr<acknowledger> wrap(std::shared_ptr<acknowledger> inner);

  /// Ends the current round and returns its number (1, 2, ...): acknowledgements held from now
  /// on belong to the next one.
  std::uint64_t seal();

  /// Passes every acknowledgement of rounds up to `round` to its source, oldest first, and
  /// returns how many.
  std::size_t release(std::uint64_t round);

  /// Acknowledgements held (sealed or not).
  std::size_t held() const;
  /// Of those, the failed messages' (settlements of failures: rejections, dead-letterings).
  std::size_t held_failed() const;
  /// Acknowledgements held that no round sealed yet.
  std::size_t unsealed() const;
  /// Calls `wake` once the acknowledgements no round sealed yet reach `count`, once per round
  /// (outside the gate's lock, on the thread that holds them), so that a checkpointing thread
  /// need not poll `unsealed`. Replaces the previous call's; `count` 0 or an empty `wake`: none.
  void wake_at(std::size_t count, std::function<void()> wake);
  /// A source can be sent nothing more until some of what it holds is let through (its
  /// prefetch window is full, see queue_source_options::on_window_full): calls the `wake_at`
  /// callback now if the open round holds anything, else as soon as it does, whatever
  /// `count` says; `is_hurried` is true until the next seal.
  void hurry();
  bool is_hurried() const;

private:
  class gated;
  void hold(const std::shared_ptr<acknowledger>& inner, std::span<message> successful, std::span<message> failed);

  /// What one acknowledger is given back: the references of successful messages (no
  /// message, no reference count per message) and stubs of the failed ones (reference,
  /// reason and redelivered flag: what a source settles a failure by).
  struct held_acks {
    std::shared_ptr<acknowledger> to;
    std::vector<delivery_ref> successful;
    std::vector<message> failed;
  };
  struct round_of_acks {
    std::uint64_t number = 0;
    std::vector<held_acks> by_acknowledger;  // a few: one per source channel
    std::size_t count = 0;                   // acknowledgements held, failed included
    std::size_t failed = 0;
  };
  /// The entry of `to` in `round`, added when missing.
  held_acks& entry_of(round_of_acks& round, const std::shared_ptr<acknowledger>& to);

  mutable std::mutex mutex_;
  std::size_t wake_at_ = 0;
  std::function<void()> wake_;
  bool has_woken_ = false;  // in the open round
  bool is_hurried_ = false; // the open round
  std::uint64_t current_ = 1;
  std::vector<round_of_acks> sealed_;  // oldest first
  round_of_acks open_{1, {}, 0, 0};
};

} // namespace causeway
