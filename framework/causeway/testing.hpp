// testing.hpp — doubles for testing pipelines, in the spirit of Broadway's CallerAcknowledger.
//
//   auto acks = std::make_shared<recording_acknowledger>();
//   auto feed = in_memory_feed::make(acks);
//   ... pipeline_spec{..., .make_producer = feed->factory()} ...
//   auto outcome = test_message(*feed, *acks, "payload");   // pushes one, waits for its ack
#pragma once

#include "causeway/acknowledger.hpp"
#include "causeway/in_memory_producer.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace causeway::testing {

/// One acknowledged message as the acknowledger saw it.
struct ack_record {
  std::uint64_t tag = 0;
  std::string data;
  bool ok = true;
  std::string reason;  ///< failure reason when !ok
};

/// Records every acknowledged message; thread-safe.
class recording_acknowledger : public acknowledger {
public:
  void ack(std::span<message> successful, std::span<message> failed) override;

  /// Waits until at least `n` messages were acknowledged; false on timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Waits for the acknowledgement of `tag`.
  std::optional<ack_record> wait_for_tag(std::uint64_t tag, std::chrono::milliseconds timeout) const;

  std::vector<ack_record> records() const;
  std::size_t count() const;
  std::size_t failed_count() const;
  /// How many times each tag was acknowledged, for "exactly once" checks.
  std::vector<std::uint32_t> times_acknowledged(std::uint64_t max_tag) const;

private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<ack_record> records_;
  std::size_t failed_ = 0;
};

/// Counts acknowledged messages without keeping them (benchmarks).
class counting_acknowledger : public acknowledger {
public:
  void ack(std::span<message> successful, std::span<message> failed) override;
  bool wait_for(std::uint64_t n, std::chrono::milliseconds timeout) const;
  std::uint64_t successful() const noexcept { return ok_.load(); }
  std::uint64_t failed() const noexcept { return failed_.load(); }

private:
  std::atomic<std::uint64_t> ok_{0};
  std::atomic<std::uint64_t> failed_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
};

/// Pushes one message with `data` and waits for its acknowledgement (nullopt on timeout).
std::optional<ack_record> test_message(in_memory_feed& feed, const recording_acknowledger& acks,
                                       std::string data,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace causeway::testing
