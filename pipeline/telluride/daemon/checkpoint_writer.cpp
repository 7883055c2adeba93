#include "telluride/daemon/checkpoint_writer.hpp"

#include "telluride/daemon/reading_handler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <utility>

namespace telluride {

namespace {

using clock_type = std::chrono::steady_clock;

} // namespace

/// Everything a round needs, shared by the sink's thread (where rounds run and the writer's
/// time is kept: step, answered, ring) and the callers of flush, stop and the chain changes.
/// Work posted to the sink, and its alarm, hold it weakly: what runs after the writer is gone
/// does nothing.
class checkpoint_writer::rounds : public std::enable_shared_from_this<rounds> {
public:
  rounds(checkpoint_writer_options options, std::shared_ptr<causeway::ack_gate> gate,
         std::shared_ptr<sensor_tracker> tracker, std::vector<shard_chain> chains, std::shared_ptr<record_sink> sink,
         std::shared_ptr<part_health> health)
    : options_(std::move(options)),
      gate_(std::move(gate)),
      tracker_(std::move(tracker)),
      chains_(std::move(chains)),
      sink_(std::move(sink)),
      health_(std::move(health)) {}

  // --- any thread ---

  /// Asks the sink's thread to start a round if one is due; false once that thread stopped.
  bool nudge() {
    return later([](rounds& self) {
      self.step();
      self.rearm();
    });
  }

  bool start() {
    {
      std::lock_guard lock(mutex_);
      if (is_running_ || is_stopping_)
        return false;
      is_running_ = true;
      next_round_ = clock_type::now() + options_.interval;
    }
    watch_gate(early_threshold());
    later([](rounds& self) { self.rearm(); });
    return true;
  }

  bool flush() {
    std::unique_lock lock(mutex_);
    if (!is_running_ || is_stopping_)
      return false;
    const std::uint64_t ticket = ++flushes_wanted_;
    return wait_for_round(lock, ticket) && last_ok_;
  }

  /// A last round, then no more. Waits for that round.
  void finish() {
    std::unique_lock lock(mutex_);
    if (is_running_ && !is_stopping_) {
      const std::uint64_t ticket = ++flushes_wanted_;
      is_stopping_ = true;
      wait_for_round(lock, ticket);
    }
    is_stopping_ = true;
    is_running_ = false;
  }

  /// After finish: no more wake-ups from the gate, no alarm, and what was posted before has run.
  void quiesce() {
    gate_->wake_at(0, nullptr);
    auto ran = std::make_shared<std::promise<void>>();
    auto barrier = ran->get_future();
    if (sink_->post([sink = sink_, ran] {
          sink->set_alarm({}, nullptr);
          ran->set_value();
        }))
      barrier.wait_for(options_.confirm_timeout);
  }

  void add_chain(shard_chain chain) {
    std::lock_guard lock(chains_mutex_);
    chains_.push_back(std::move(chain));
  }

  std::optional<shard_chain> remove_chain(std::uint32_t shard) {
    // A round in flight names its chains by position: let it end first, and start none meanwhile
    // (step sets in_flight_ under mutex_, which this holds until the chain is gone).
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return !in_flight_; });
    std::lock_guard chains_lock(chains_mutex_);
    auto it =
      std::find_if(chains_.begin(), chains_.end(), [&](const shard_chain& c) { return c.shard().shard == shard; });
    if (it == chains_.end())
      return std::nullopt;
    auto chain = std::move(*it);
    chains_.erase(it);
    return chain;
  }

  void snapshot_next(shard_identity shard) {
    std::lock_guard lock(chains_mutex_);
    for (auto& chain : chains_)
      if (chain.shard() == shard)
        chain.failed();  // what a failed write does: the next record is a snapshot, and due
  }

  checkpoint_stats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  // --- the sink's thread ---

  /// Starts a round when one is due and none is in flight.
  void step() {
    std::size_t early_at = 0;
    bool is_due = false;
    {
      std::lock_guard lock(mutex_);
      if (!is_running_ || in_flight_)
        return;
      const bool is_flush_wanted = flushes_wanted_ > flushes_done_;
      if (is_stopping_ && !is_flush_wanted)
        return;
      is_due = is_flush_wanted || is_interval_over_;
      if (is_backing_off_ && !is_due)
        return;  // after a failed round, only the interval starts the next one
      early_at = early_at_;
    }
    if (!is_due && !is_early(early_at))
      return;
    std::uint64_t flight = 0;
    {
      std::lock_guard lock(mutex_);
      in_flight_ = true;
      is_answered_ = false;
      flight = ++flight_;
      flight_started_ = clock_type::now();
      flight_ticket_ = flushes_wanted_;  // every flush asked for so far is covered by this round
    }
    std::vector<outgoing_record> records;
    bool is_published = false;
    {
      std::lock_guard chains_lock(chains_mutex_);
      round_ = begin_checkpoint_round(*gate_, *tracker_, chains_, now_ms());
      records = std::exchange(round_.records, {});
      is_published = round_.outcome.ok && !records.empty();
    }
    if (!is_published) {
      answered(flight, sink_answer::confirmed);  // nothing to confirm: release, or report
      return;
    }
    in_publish_ = true;
    sink_->publish(std::move(records), [weak = weak_from_this(), flight](sink_answer answer) {
      if (auto self = weak.lock())
        self->on_answer(flight, answer);
    });
    in_publish_ = false;
    if (auto answer = std::exchange(inline_answer_, std::nullopt))
      answered(flight, *answer);
  }

  void on_answer(std::uint64_t flight, sink_answer answer) {
    if (in_publish_) {
      inline_answer_ = answer;  // the sink answered inside publish: step finishes the round
      return;
    }
    if (answer == sink_answer::unrouted) {
      // declare_again runs RPCs on this thread: not inside the dispatch of the confirm's frame.
      later([flight](rounds& self) { self.answered(flight, sink_answer::unrouted); });
      return;
    }
    answered(flight, answer);
  }

  /// Ends round `flight` with the sink's answer, or none (it timed out: the alarm). A round
  /// ends once: what comes for it later, or for an earlier one, is dropped.
  void answered(std::uint64_t flight, std::optional<sink_answer> answer) {
    clock_type::time_point started;
    {
      std::lock_guard lock(mutex_);
      if (!in_flight_ || flight != flight_ || is_answered_)
        return;
      is_answered_ = true;
      started = flight_started_;
    }
    round_outcome outcome;
    {
      std::lock_guard chains_lock(chains_mutex_);
      outcome = finish_checkpoint_round(round_, answer, *gate_, chains_, *sink_, options_.confirm_timeout);
      round_ = sealed_round{};
    }
    note(outcome, std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - started));
    if (const std::size_t at = early_threshold(); at != early_at_now())
      watch_gate(at);
    {
      std::lock_guard lock(mutex_);
      in_flight_ = false;
      is_backing_off_ = !outcome.ok;
      is_interval_over_ = false;
      next_round_ = clock_type::now() + options_.interval;
      flushes_done_ = flight_ticket_;
      last_ok_ = outcome.ok;
      done_.notify_all();  // no system call while nobody waits
    }
    step();  // the next round may be due already (the gate's mark was passed meanwhile)
    rearm();
  }

  /// The sink's alarm: a round in flight timed out, or the interval is over.
  void ring() {
    std::optional<std::uint64_t> timed_out;
    bool is_due = false;
    {
      std::lock_guard lock(mutex_);
      const auto now = clock_type::now();
      if (in_flight_ && !is_answered_ && now >= flight_started_ + options_.confirm_timeout)
        timed_out = flight_;
      else if (is_running_ && !in_flight_ && !is_interval_over_ && now >= next_round_)
        is_due = is_interval_over_ = true;
    }
    if (timed_out) {
      answered(*timed_out, std::nullopt);
      return;
    }
    if (is_due)
      step();
    rearm();
  }

  /// Sets the sink's alarm for what comes next: the confirm timeout of the round in flight,
  /// or the end of the interval; none once the writer stopped. Each piece of work on the sink's
  /// thread that may start or end a round (a nudge, the alarm, an answer) ends with it.
  void rearm() {
    std::optional<clock_type::time_point> due;
    {
      std::lock_guard lock(mutex_);
      if (in_flight_ && !is_answered_)
        due = flight_started_ + options_.confirm_timeout;
      else if (is_running_ && !in_flight_ && !is_interval_over_)
        due = next_round_;
    }
    if (!due) {
      sink_->set_alarm({}, nullptr);
      return;
    }
    sink_->set_alarm(*due, [weak = weak_from_this()] {
      if (auto self = weak.lock())
        self->ring();
    });
  }

private:
  /// Runs `work` on this object on the sink's thread, if the object still exists by then.
  template <class Work>
  bool later(Work work) {
    return sink_->post([weak = weak_from_this(), work = std::move(work)] {
      if (auto self = weak.lock())
        work(*self);
    });
  }

  std::size_t early_threshold() const { return options_.early_at ? options_.early_at() : 0; }

  std::size_t early_at_now() const {
    std::lock_guard lock(mutex_);
    return early_at_;
  }

  /// The gate nudges the rounds when it holds `at` (asked anew after each round: the config may
  /// change it).
  void watch_gate(std::size_t at) {
    {
      std::lock_guard lock(mutex_);
      early_at_ = at;
    }
    gate_->wake_at(at, [weak = weak_from_this()] {
      if (auto self = weak.lock())
        self->nudge();
    });
  }

  /// The gate holds `early_at` acknowledgements no round sealed yet, or any while it is hurried.
  bool is_early(std::size_t early_at) const {
    const std::size_t unsealed = gate_->unsealed();
    return (early_at != 0 && unsealed >= early_at) || (unsealed > 0 && gate_->is_hurried());
  }

  /// Waits (holding `lock` on mutex_) until a round covering `ticket` ended; false when none
  /// will: the sink's thread is gone, or nothing ended within the patience of a round.
  bool wait_for_round(std::unique_lock<std::mutex>& lock, std::uint64_t ticket) {
    lock.unlock();
    const bool is_posted = nudge();
    lock.lock();
    // A round in flight ends within the confirm timeout (the sink's alarm sees to it); a posted
    // step starts one at once. Nothing ending, and nothing in flight or the sink's thread gone:
    // that thread dropped the step, or can end no round.
    const auto patience = options_.confirm_timeout + options_.interval + std::chrono::seconds{1};
    while (is_posted && flushes_done_ < ticket) {
      if (done_.wait_for(lock, patience, [&] { return flushes_done_ >= ticket; }))
        break;
      lock.unlock();
      const bool is_sink_alive = sink_->post([] {});
      lock.lock();
      if (!in_flight_ || !is_sink_alive)
        break;
    }
    return flushes_done_ >= ticket;
  }

  void note(const round_outcome& outcome, std::chrono::microseconds took) {
    std::uint64_t failures = 0;
    {
      std::lock_guard lock(mutex_);
      if (outcome.ok) {
        ++stats_.rounds;
        stats_.snapshots += outcome.snapshots;
        stats_.deltas += outcome.deltas;
        stats_.bytes += outcome.bytes;
        stats_.released += outcome.released;
        stats_.round_us += static_cast<std::uint64_t>(took.count());
        stats_.is_failing = false;
        stats_.last_confirmed_ms = now_ms();
        failures = std::exchange(failures_in_a_row_, 0);
      } else {
        ++stats_.failed_rounds;
        stats_.is_failing = true;
        failures = ++failures_in_a_row_;
      }
    }
    if (outcome.ok) {
      if (failures > 0) {
        health_->set_up(checkpoints_part);
        spdlog::info("checkpoints confirmed again after {} failed round(s); held readings are acknowledged",
                     failures);
      }
      return;
    }
    health_->set_down(checkpoints_part, outcome.problem);
    if (failures == 1)
      spdlog::error("checkpoint failed: {}; readings stay unacknowledged until a checkpoint is confirmed (retrying "
                    "every {} ms)",
                    outcome.problem, options_.interval.count());
  }

  const checkpoint_writer_options options_;
  const std::shared_ptr<causeway::ack_gate> gate_;
  const std::shared_ptr<sensor_tracker> tracker_;
  std::mutex chains_mutex_;  // the chains and the round in flight; taken after mutex_, never before
  std::vector<shard_chain> chains_;
  sealed_round round_;
  const std::shared_ptr<record_sink> sink_;
  const std::shared_ptr<part_health> health_;

  mutable std::mutex mutex_;
  std::condition_variable done_;  // a round ended: flushers, stop, remove_chain
  std::uint64_t flushes_wanted_ = 0;  // tickets handed out
  std::uint64_t flushes_done_ = 0;    // tickets the latest round covered
  bool last_ok_ = true;
  bool is_running_ = false;
  bool is_stopping_ = false;
  bool in_flight_ = false;          // a round is sealed and not ended
  bool is_answered_ = false;        // ... and its end has begun
  std::uint64_t flight_ = 0;        // the latest round's number (this writer's)
  std::uint64_t flight_ticket_ = 0;
  clock_type::time_point flight_started_;
  clock_type::time_point next_round_;
  bool is_interval_over_ = false;   // the alarm saw next_round_ pass: a round is due
  bool is_backing_off_ = false;     // after a failed round, only the interval starts the next one
  std::size_t early_at_ = 0;
  checkpoint_stats stats_;
  std::uint64_t failures_in_a_row_ = 0;

  // The sink's thread only.
  bool in_publish_ = false;
  std::optional<sink_answer> inline_answer_;
};

checkpoint_writer::checkpoint_writer(checkpoint_writer_options options, std::shared_ptr<causeway::ack_gate> gate,
                                     std::shared_ptr<sensor_tracker> tracker, std::vector<shard_chain> chains,
                                     std::shared_ptr<record_sink> sink, std::shared_ptr<part_health> health)
  : rounds_(std::make_shared<rounds>(std::move(options), std::move(gate), std::move(tracker), std::move(chains),
                                     std::move(sink), std::move(health))) {}

checkpoint_writer::~checkpoint_writer() {
  stop();
}

void checkpoint_writer::start() {
  std::lock_guard lock(start_mutex_);
  is_started_ = rounds_->start();
}

bool checkpoint_writer::flush() {
  return rounds_->flush();
}

void checkpoint_writer::stop() {
  std::lock_guard lock(start_mutex_);
  rounds_->finish();
  if (std::exchange(is_started_, false))
    rounds_->quiesce();
}

void checkpoint_writer::add_chain(shard_chain chain) {
  rounds_->add_chain(std::move(chain));
}

std::optional<shard_chain> checkpoint_writer::remove_chain(std::uint32_t shard) {
  return rounds_->remove_chain(shard);
}

void checkpoint_writer::snapshot_next(shard_identity shard) {
  rounds_->snapshot_next(shard);
}

checkpoint_stats checkpoint_writer::stats() const {
  return rounds_->stats();
}

} // namespace telluride
