// memory_stream.hpp — a state stream in memory for the durable-mode tests: records published
// to it (record_sink) are appended, and read back in order (record_source), as RabbitMQ's
// stream would (a record's offset is its position, from 0), also from an offset; it can refuse
// or ignore what is published, and let something in first.
#pragma once

#include "telluride/daemon/checkpoint_round.hpp"
#include "telluride/daemon/state_stream.hpp"
#include "telluride/daemon/sensor_tracker.hpp"

#include <causeway/ack_gate.hpp>
#include <causeway/testing.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <deque>
#include <optional>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace durable_test {

using namespace telluride;

/// Runs what is posted to it on a thread of its own, in order, and its one alarm there once
/// due; the thread starts with the first post and ends with the executor (what was posted and
/// not run is dropped).
class serial_executor {
public:
  serial_executor() = default;
  serial_executor(const serial_executor&) = delete;
  serial_executor& operator=(const serial_executor&) = delete;
  ~serial_executor() {
    {
      std::lock_guard lock(mutex_);
      is_stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }

  bool post(std::function<void()> work) {
    std::lock_guard lock(mutex_);
    if (is_stopping_)
      return false;
    queue_.push_back(std::move(work));
    if (!thread_.joinable())
      thread_ = std::thread([this] { run(); });
    wake_.notify_one();
    return true;
  }

  /// Its thread only (what it runs sets it): `work` runs once `due` has come, instead of what
  /// the previous call set; empty: nothing.
  void set_alarm(std::chrono::steady_clock::time_point due, std::function<void()> work) {
    std::lock_guard lock(mutex_);
    alarm_due_ = due;
    alarm_ = std::move(work);
  }

private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      const auto is_ready = [this] {
        return is_stopping_ || !queue_.empty() || (alarm_ && std::chrono::steady_clock::now() >= alarm_due_);
      };
      if (alarm_)
        wake_.wait_until(lock, alarm_due_, is_ready);
      else
        wake_.wait(lock, is_ready);
      if (is_stopping_)
        return;
      std::function<void()> work;
      if (!queue_.empty()) {
        work = std::move(queue_.front());
        queue_.pop_front();
      } else if (alarm_ && std::chrono::steady_clock::now() >= alarm_due_) {
        work = std::exchange(alarm_, {});
      } else {
        continue;
      }
      lock.unlock();
      work();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::function<void()> alarm_;
  std::chrono::steady_clock::time_point alarm_due_;
  bool is_stopping_ = false;
  std::thread thread_;
};

class memory_stream final : public record_sink, public record_source {
public:
  /// unroute: confirmed, but the records reach no queue (the stream was deleted).
  enum class answer { confirm, refuse, never, unroute };

  void publish(std::vector<outgoing_record> records, std::function<void(sink_answer)> done) override {
    std::function<void()> first;
    answer how;
    {
      std::lock_guard lock(mutex_);
      how = answer_;
      first = std::exchange(before_next_, {});
      ++batches_;
      for (auto& r : records)
        headers_.push_back({r.shard, r.kind});
    }
    if (first)
      first();
    if (how == answer::never)
      return;
    if (how == answer::refuse || how == answer::unroute) {
      done(how == answer::refuse ? sink_answer::refused : sink_answer::unrouted);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      for (auto& r : records)
        records_.push_back(std::move(r.bytes));
    }
    done(sink_answer::confirmed);
  }

  /// On a thread of the stream's own, started by the first post.
  bool post(std::function<void()> work) override { return executor_.post(std::move(work)); }
  void set_alarm(std::chrono::steady_clock::time_point due, std::function<void()> work) override {
    executor_.set_alarm(due, std::move(work));
  }

  expected<void> declare_again() override {
    std::lock_guard lock(mutex_);
    ++declared_again_;
    return {};
  }
  std::size_t declared_again() const {
    std::lock_guard lock(mutex_);
    return declared_again_;
  }

  expected<std::vector<stream_record>> next(std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    std::vector<stream_record> out;
    for (; read_at_ < records_.size(); ++read_at_)
      out.push_back(stream_record{static_cast<std::int64_t>(read_at_), records_[read_at_]});
    return out;
  }

  /// Retention: the records before `offset` are gone; a reader from an offset before it
  /// starts at it.
  void drop_before(std::size_t offset) {
    std::lock_guard lock(mutex_);
    retained_from_ = offset;
  }
  std::size_t retained_from() const {
    std::lock_guard lock(mutex_);
    return retained_from_;
  }

  void set_answer(answer how) {
    std::lock_guard lock(mutex_);
    answer_ = how;
  }
  /// Runs `first` when the next batch is published, before it is appended.
  void before_next(std::function<void()> first) {
    std::lock_guard lock(mutex_);
    before_next_ = std::move(first);
  }
  void append(std::string bytes) {
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(bytes));
  }
  std::vector<std::string> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  /// "snapshot 1/1 delta 2/1 ..." (kind, sequence/base) of the records in the stream.
  std::string kinds() const {
    std::string out;
    for (const auto& bytes : records()) {
      auto h = decode_checkpoint_header(bytes);
      if (!out.empty())
        out += ' ';
      if (!h) {
        out += '?';
        continue;
      }
      out += to_string(h->kind);
      out += ' ';
      out += std::to_string(h->sequence);
      out += '/';
      out += std::to_string(h->base);
    }
    return out;
  }
  std::size_t batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  /// The `shard` and `kind` headers of everything published (refused included).
  std::vector<std::pair<std::uint32_t, record_kind>> headers() const {
    std::lock_guard lock(mutex_);
    return headers_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> records_;
  std::size_t read_at_ = 0;
  std::size_t retained_from_ = 0;
  answer answer_ = answer::confirm;
  std::function<void()> before_next_;
  std::size_t batches_ = 0;
  std::size_t declared_again_ = 0;
  std::vector<std::pair<std::uint32_t, record_kind>> headers_;
  serial_executor executor_;  // last: its thread ends before the rest goes
};

/// A reader of a memory_stream from an offset (none: its first retained record), as the
/// broker's stream delivers: an offset before the retained part starts at it, one past the end
/// waits for it.
class memory_reader final : public record_source {
public:
  memory_reader(const memory_stream& stream, std::optional<std::int64_t> from)
    : stream_(stream), at_(std::max<std::size_t>(from ? static_cast<std::size_t>(*from) : 0, stream.retained_from())) {}

  expected<std::vector<stream_record>> next(std::chrono::milliseconds) override {
    const auto records = stream_.records();
    std::vector<stream_record> out;
    for (; at_ < records.size(); ++at_)
      out.push_back(stream_record{static_cast<std::int64_t>(at_), records[at_]});
    return out;
  }

private:
  const memory_stream& stream_;
  std::size_t at_;
};

/// Readings of a durable-mode tracker, kept alive as long as the batches pointing at them.
class reading_store {
public:
  /// A batch of one reading per (sensor, value), each with message id `prefix-<n>`.
  std::vector<sensor_tracker::input> batch(const std::vector<std::pair<std::int64_t, double>>& values) {
    std::vector<sensor_tracker::input> out;
    for (const auto& [sensor, value] : values) {
      decoded_reading d;
      d.reading.key = sensor_key{json_id{10}, json_id{100}, json_id{sensor}};
      d.reading.value = value;
      d.reading.timestamp = "2026-12-01T10:00:00Z";
      d.hash = hash_value(d.reading.key);
      d.message_id = message_id_fingerprint("m-" + std::to_string(++next_id_));
      out.push_back({&readings_.emplace_back(std::move(d))});
    }
    return out;
  }

private:
  std::deque<decoded_reading> readings_;
  std::uint64_t next_id_ = 0;
};

/// Messages with tags first..first+count-1 acknowledged through `through` (an ack gate's).
inline void acknowledge_tags(const std::shared_ptr<causeway::acknowledger>& through, std::uint64_t first,
                             std::uint64_t count) {
  std::vector<causeway::message> done;
  for (std::uint64_t tag = first; tag < first + count; ++tag)
    done.emplace_back(std::to_string(tag), causeway::ack_ref{through, tag, 1});
  through->ack(done, {});
}

} // namespace durable_test
