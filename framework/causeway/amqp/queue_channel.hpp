// queue_channel.hpp — one consuming channel: deliveries in, coalesced acknowledgements out.
//
// A `queue_channel` is the channel_user behind one AMQP producer stage. On the connection thread
// it has its delivery_assembler put deliveries together from frames (method, header, body...),
// gives them to its channel_group (channel_group.hpp), which gathers the read bursts of every
// channel of the topology and hands them to the stages, settles acknowledgements into its
// ack_window and flushes them as multiple-acks. Deliveries the assembler failed (a body over
// max_body_size, frames out of order) travel on as failed messages, so the handler sees and
// counts them and they are settled like any other failure; an oversized one is never
// requeued. Its `queue_channel_acker` is what messages carry: stages call it on their own threads
// and it only posts the settlements to the connection thread.
//
// Epochs: each (re)open of the channel has a new epoch. A settlement whose epoch is not the
// live channel's is dropped and counted: its tag belongs to a dead channel.
//
// Its life (attached or not, channel open, consuming, draining) is one queue_channel_lifecycle
// (queue_channel_phase.hpp): the queue channel reports each event to it and does the step it returns.
#pragma once

#include "causeway/acknowledger.hpp"
#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/channel_group.hpp"
#include "causeway/amqp/queue_channel_phase.hpp"
#include "causeway/amqp/delivery_assembler.hpp"
#include "causeway/amqp/queue_source.hpp"
#include "causeway/detail/ack_window.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace causeway::amqp::detail {

using causeway::detail::settlement;

struct queue_channel_counters {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> handoffs{0};
  std::atomic<std::uint64_t> deferred_handoffs{0};
  std::atomic<std::uint64_t> redelivered{0};
  std::atomic<std::uint64_t> recycled{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> requeued{0};
  std::atomic<std::uint64_t> ack_frames{0};
  std::atomic<std::uint64_t> dropped_acks{0};
  std::atomic<std::uint64_t> oversized{0};
  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> window_full{0};     // times the prefetch window filled
  std::atomic<std::uint64_t> window_full_ns{0};  // how long it stayed full, in all
};

struct settle_item {
  std::uint64_t tag;
  std::uint32_t epoch;
  settlement outcome;
};

/// The outcome of a failed message under `policy` (requeue_once looks at its redelivered flag).
settlement failure_outcome(failure_policy policy, bool redelivered) noexcept;

class queue_channel;

class queue_channel_acker final : public acknowledger {
public:
  queue_channel_acker(std::weak_ptr<queue_channel> target, std::shared_ptr<amqp::mailbox> box,
                 failure_policy policy, std::shared_ptr<queue_channel_counters> counters,
                 std::shared_ptr<recycled_buffers> recycled);
  /// Any thread: posts the settlements to the connection thread, and gives the buffers of the
  /// successful messages back to it.
  void ack(std::span<message> successful, std::span<message> failed) override;
  /// Any thread: posts the acknowledgements to the connection thread.
  void ack_refs(std::span<const delivery_ref> successful) override;
  /// Any thread: gives the messages' buffers back to the connection thread.
  void recycle(std::span<message> done) override;

private:
  /// Unhurried (mailbox::post_unhurried) while the channel's window has room to wait with.
  void post(std::vector<settle_item> items);

  std::weak_ptr<queue_channel> target_;
  std::shared_ptr<amqp::mailbox> box_;
  failure_policy policy_;
  std::shared_ptr<queue_channel_counters> counters_;
  std::shared_ptr<recycled_buffers> recycled_;
};

class queue_channel final : public channel_user, public std::enable_shared_from_this<queue_channel> {
public:
  /// Member `position` of `group`.
  queue_channel(const queue_source_options& options, std::string log_name, std::shared_ptr<channel_group> group,
                std::size_t position, std::shared_ptr<queue_channel_counters> counters);

  /// Creates the acker; call once, right after make_shared.
  void init(std::shared_ptr<amqp::mailbox> box);

  // --- connection thread ---
  void attach_to(connection& conn);
  /// Settlements of handled messages; a failed oversized delivery is rejected, never requeued
  /// (its body would be too big again).
  void settle(const std::vector<settle_item>& items);
  /// basic.cancel; the group hears that this member's drain ended once cancel-ok arrived.
  void start_draining();
  /// Requeues every pending tag of the live channel (they were never handled) and flushes.
  void fail_pending(const std::string& reason);
  /// Flushes every settled tag and closes the channel.
  void close(connection& conn);

  failure on_open(channel& ch) override;
  void on_frame(channel& ch, const amqp_frame_t& frame) override;
  void on_burst_end(channel& ch) override;
  void on_flush(channel& ch) override;
  void on_lost(const failure& why) override;
  void on_closing(channel& ch) override;

  /// Any thread: more than three quarters of the prefetch window are unsettled or settled and
  /// unsent, as of the channel's last delivery or flush. Acknowledgements then go at once; with
  /// more room they may wait for the connection's next paced read (queue_channel_acker).
  bool is_window_tight() const noexcept { return is_window_tight_.load(std::memory_order_relaxed); }

private:
  void on_method(channel& ch, const amqp_method_t& method);
  /// What the assembler made of a frame: a delivery to hand on, or a problem to report.
  void take(feed_result result);
  /// Gives the delivery its ack reference and moves its message into the group's gathering.
  void accept(assembled_delivery& d);
  /// Frames out of order: logged once per channel generation, counted every time.
  void note_malformed(const std::string& problem);
  /// Records settlements (`handled`: by the pipeline, not given back by fail_pending).
  void record(const std::vector<settle_item>& items, bool handled);
  void flush(bool everything);
  /// As many deliveries unsettled as prefetch_count allows: the broker sends no more until
  /// some are settled.
  bool is_window_full() const noexcept;
  /// Deliveries of the live generation unsettled, or settled and unsent: what holds the window.
  std::size_t window_held() const noexcept;
  /// Publishes is_window_tight for the ackers' threads.
  void note_window() noexcept;
  bool send_run(channel& ch, std::uint64_t first, std::uint64_t last, settlement kind);
  /// Tells the group this member's drain ended; when the lifecycle says so.
  void finish_drain();

  std::string queue_;
  std::string log_name_;
  queue_source_options options_;
  std::size_t flush_threshold_;
  std::shared_ptr<channel_group> group_;
  std::size_t position_;
  std::shared_ptr<queue_channel_counters> counters_;
  std::shared_ptr<queue_channel_acker> acker_;
  std::shared_ptr<acknowledger> message_acker_;  // what messages carry: acker_, or what is in front of it
  // Bodies and metadata of settled messages, back from the acker for the next deliveries.
  // Kept from one generation to the next: buffers are buffers.
  std::shared_ptr<recycled_buffers> recycled_;

  /// What one generation of the channel (from its open until it closes or is lost) knows. Its
  /// tags mean nothing to the next generation, so each open starts from a fresh one and a lost
  /// channel leaves an empty one.
  struct generation {
    generation(assembly_limits limits, delivery_metadata keep, std::shared_ptr<recycled_buffers> recycled,
               std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now())
      : last_progress(opened), assembler(limits, keep, std::move(recycled)) {}

    causeway::detail::ack_window window;
    std::chrono::steady_clock::time_point last_progress;  // the lowest unsettled tag last moved
    std::uint64_t last_tag = 0;                           // of the last basic.deliver
    std::chrono::steady_clock::time_point full_since;     // the window last filled (while full)
    std::unordered_set<std::uint64_t> oversized;          // pending tags of oversized deliveries
    bool logged_malformed = false;
    delivery_assembler assembler;
  };
  /// A fresh generation, assembling deliveries as the options say.
  generation new_generation() const {
    return generation(assembly_limits{options_.max_body_size}, options_.metadata, recycled_);
  }

  // Connection thread only from here on.
  queue_channel_lifecycle life_;
  amqp_channel_t channel_id_ = 0;  // while attached
  generation gen_;
  std::atomic<bool> is_window_tight_{false};
};

} // namespace causeway::amqp::detail
