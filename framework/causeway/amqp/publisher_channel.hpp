// publisher_channel.hpp — the inside of `publisher`: its confirm-mode channel and the state
// it shares with publishing threads.
//
// Internal to the AMQP module. `publisher::publish` (any thread) queues an `entry` in the
// shared state; the `publisher_channel` (connection thread) takes the queue, keeps at most
// `confirm_window` messages unconfirmed on the wire and settles them as confirms arrive.
// publisher.cpp holds the publisher's own functions; publisher_channel.cpp the channel's.
#pragma once

#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/frame_writer.hpp"
#include "causeway/amqp/publisher.hpp"

#include <amqp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace causeway::amqp {

namespace detail {

/// Where a message goes and how: shared by the messages of one publish_each.
struct envelope {
  std::string exchange;
  std::string routing_key;
  message_properties properties;
};

struct entry {
  std::shared_ptr<const envelope> to;
  std::string body;
  confirm_callback on_confirm;
};

} // namespace detail

/// What publishing threads and the connection thread share.
struct publisher::shared_state {
  std::mutex mutex;
  std::condition_variable settled;
  std::vector<detail::entry> incoming;  // published, not yet taken by the connection thread
  std::uint64_t outstanding = 0;        // published, not yet confirmed/nacked/abandoned
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> confirmed{0};
  std::atomic<std::uint64_t> nacked{0};
  std::atomic<std::uint64_t> republished{0};
  std::atomic<std::uint64_t> returned{0};

  void finished(std::uint64_t n) {
    if (n == 0)
      return;
    std::lock_guard lock(mutex);
    outstanding -= std::min(outstanding, n);
    if (outstanding == 0)
      settled.notify_all();
  }
};

namespace detail {

// The confirm-mode channel. Connection thread only, except construction.
class publisher_channel final : public channel_user {
public:
  publisher_channel(std::shared_ptr<publisher::shared_state> state, std::size_t window, bool mandatory,
                    std::function<void(const returned_message&)> on_return = {});

  void take_incoming();
  void abandon_all();

  bool is_open() const noexcept { return open_; }
  void set_id(amqp_channel_t id) noexcept { id_ = id; }
  amqp_channel_t id() const noexcept { return id_; }
  const std::string& last_failure() const noexcept { return last_failure_; }

  failure on_open(channel& ch) override;
  void on_frame(channel&, const amqp_frame_t& frame) override;
  void on_lost(const failure&) override;
  void on_blocked(bool blocked) override;

private:
  struct sent {
    std::uint64_t seq;
    entry e;
    bool done = false;
  };

  void take_incoming_without_pump();
  bool exchange_exists(const std::string& exchange);
  bool can_publish() const noexcept;
  void pump();
  bool write_encoded(std::size_t count);
  int encode(const entry& e);
  void settle(std::uint64_t tag, bool multiple, publish_outcome outcome);
  static void notify(entry& e, publish_outcome outcome);

  std::shared_ptr<publisher::shared_state> state_;
  std::size_t window_;
  bool mandatory_;
  std::function<void(const returned_message&)> on_return_;
  channel* channel_ = nullptr;
  bool open_ = false;
  bool blocked_ = false;
  std::uint64_t next_seq_ = 1;
  std::size_t unconfirmed_ = 0;
  std::deque<entry> waiting_;
  std::deque<sent> in_flight_;
  std::string last_failure_;
  amqp_channel_t id_ = 0;
  std::unordered_set<std::string> known_exchanges_;
  frame_buffer out_;
};

} // namespace detail

} // namespace causeway::amqp
