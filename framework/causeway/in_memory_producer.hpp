// in_memory_producer.hpp — a producer fed by the program itself (tests, benchmarks, demos).
//
// An `in_memory_feed` outlives topology restarts: `push` hands messages to the running
// producer stages (round-robin), or holds them until a topology starts. Every message gets a
// tag (consecutive from 1) and the feed as its acknowledger; acknowledgements are passed on to
// the acknowledger given at creation. When a topology dies, the feed fails back exactly the
// messages it handed out and that were not acknowledged (as stubs carrying tag and reason),
// so every pushed message is acknowledged once.
#pragma once

#include "causeway/acknowledger.hpp"
#include "causeway/detail/ack_window.hpp"
#include "causeway/producer.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace causeway {

class in_memory_feed : public acknowledger, public std::enable_shared_from_this<in_memory_feed> {
public:
  static std::shared_ptr<in_memory_feed> make(std::shared_ptr<acknowledger> acks);

  /// Tags the messages and hands them on; returns the first tag (the others follow).
  std::uint64_t push(std::vector<message> messages);
  /// Wraps each payload in a message and pushes it; returns the first tag.
  std::uint64_t push_data(std::vector<std::string> payloads);

  /// Tells the running producer stages that nothing more comes until some of what they got is
  /// acknowledged (producer_sink::stalled), as a source with a full window does; while no
  /// stage runs, the stage that gets the held messages is told after them.
  void stall();

  /// A factory for pipeline_spec::make_producer; all its producers read from this feed.
  producer_factory factory();

  /// Messages handed to a topology and not yet acknowledged.
  std::size_t unacknowledged() const;

  void ack(std::span<message> successful, std::span<message> failed) override;

  explicit in_memory_feed(std::shared_ptr<acknowledger> acks);

private:
  class feed_producer;
  void attach(const producer_sink& sink);
  void detach(const producer_sink& sink);
  void fail_outstanding(std::string_view reason);

  std::shared_ptr<acknowledger> acks_;
  mutable std::mutex mutex_;
  detail::ack_window window_;
  std::uint64_t next_tag_ = 1;
  std::vector<producer_sink> sinks_;
  std::size_t next_sink_ = 0;
  std::vector<message> held_;  // pushed while no producer stage runs
  bool is_stall_held_ = false; // stalled after held_ was pushed: told after it is delivered
};

} // namespace causeway
