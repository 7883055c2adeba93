#include "telluride/daemon/checkpoint_writer.hpp"

#include "telluride/daemon/reading_handler.hpp"

#include <causeway/thread_name.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace telluride {

checkpoint_writer::checkpoint_writer(checkpoint_writer_options options, std::shared_ptr<causeway::ack_gate> gate,
                                     std::shared_ptr<sensor_tracker> tracker, std::vector<shard_chain> chains,
                                     std::shared_ptr<record_sink> sink, std::shared_ptr<part_health> health)
  : options_(std::move(options)),
    gate_(std::move(gate)),
    tracker_(std::move(tracker)),
    chains_(std::move(chains)),
    sink_(std::move(sink)),
    health_(std::move(health)) {}

checkpoint_writer::~checkpoint_writer() {
  stop();
}

void checkpoint_writer::start() {
  std::lock_guard lock(mutex_);
  if (is_running_ || is_stopping_)
    return;
  is_running_ = true;
  thread_ = std::thread([this] { run(); });
}

std::size_t checkpoint_writer::early_threshold() const {
  return options_.early_at ? options_.early_at() : 0;
}

bool checkpoint_writer::is_early(std::size_t early_at) const {
  const std::size_t unsealed = gate_->unsealed();
  return (early_at != 0 && unsealed >= early_at) || (unsealed > 0 && gate_->is_hurried());
}

void checkpoint_writer::run() {
  causeway::name_this_thread("ckpt-writer");
  using clock = std::chrono::steady_clock;
  std::size_t early_at = early_threshold();
  auto ring = [signal = signal_] {
    std::lock_guard lock(signal->mutex);
    signal->wake.notify_all();
  };
  gate_->wake_at(early_at, ring);
  auto next_round = clock::now() + options_.interval;
  bool is_backing_off = false;  // after a failed round, only the interval starts the next one
  std::unique_lock lock(mutex_);
  for (;;) {
    const bool is_flush_wanted = flushes_wanted_ > flushes_done_;
    if (is_stopping_ && !is_flush_wanted)
      break;
    const auto now = clock::now();
    const bool is_due = is_flush_wanted || now >= next_round || (!is_backing_off && is_early(early_at));
    if (!is_due) {
      wake_.wait_for(lock, next_round - now);
      continue;
    }
    const std::uint64_t ticket = flushes_wanted_;
    lock.unlock();
    round_outcome outcome;
    const auto started = clock::now();
    {
      std::lock_guard chains_lock(chains_mutex_);
      outcome = run_checkpoint_round(*gate_, *tracker_, chains_, *sink_, options_.confirm_timeout, now_ms());
    }
    note(outcome, std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started));
    if (const std::size_t at = early_threshold(); at != early_at) {
      early_at = at;
      gate_->wake_at(early_at, ring);
    }
    is_backing_off = !outcome.ok;
    next_round = clock::now() + options_.interval;
    lock.lock();
    flushes_done_ = ticket;
    last_ok_ = outcome.ok;
    finished_.notify_all();
  }
  is_running_ = false;
  finished_.notify_all();
  lock.unlock();
  gate_->wake_at(0, nullptr);
}

void checkpoint_writer::note(const round_outcome& outcome, std::chrono::microseconds took) {
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
      spdlog::info("checkpoints confirmed again after {} failed round(s); held readings are acknowledged", failures);
    }
    return;
  }
  health_->set_down(checkpoints_part, outcome.problem);
  if (failures == 1)
    spdlog::error("checkpoint failed: {}; readings stay unacknowledged until a checkpoint is confirmed (retrying "
                  "every {} ms)",
                  outcome.problem, options_.interval.count());
}

bool checkpoint_writer::flush() {
  std::unique_lock lock(mutex_);
  if (!is_running_ || is_stopping_)
    return false;
  const std::uint64_t ticket = ++flushes_wanted_;
  wake_.notify_all();
  finished_.wait(lock, [&] { return flushes_done_ >= ticket || !is_running_; });
  return flushes_done_ >= ticket && last_ok_;
}

void checkpoint_writer::stop() {
  std::lock_guard joining(join_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (is_running_ && !is_stopping_) {
      ++flushes_wanted_;  // a last round, then the thread ends
      is_stopping_ = true;
      wake_.notify_all();
    }
    is_stopping_ = true;  // never started: it never will
  }
  if (thread_.joinable())
    thread_.join();
}

void checkpoint_writer::add_chain(shard_chain chain) {
  std::lock_guard lock(chains_mutex_);
  chains_.push_back(std::move(chain));
}

std::optional<shard_chain> checkpoint_writer::remove_chain(std::uint32_t shard) {
  std::lock_guard lock(chains_mutex_);
  auto it =
    std::find_if(chains_.begin(), chains_.end(), [&](const shard_chain& c) { return c.shard().shard == shard; });
  if (it == chains_.end())
    return std::nullopt;
  auto chain = std::move(*it);
  chains_.erase(it);
  return chain;
}

void checkpoint_writer::snapshot_next(shard_identity shard) {
  std::lock_guard lock(chains_mutex_);
  for (auto& chain : chains_)
    if (chain.shard() == shard)
      chain.failed();  // what a failed write does: the next record is a snapshot, and due
}

checkpoint_stats checkpoint_writer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

} // namespace telluride
