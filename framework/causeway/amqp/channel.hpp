// channel.hpp — what code on a connection's thread sees of it (internal): the command queue,
// a channel and the users of channels. It speaks rabbitmq-c; users of connection.hpp do not see
// it.
#pragma once

#include "causeway/amqp/connection.hpp"
#include "causeway/amqp/describe.hpp"

#include <amqp.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::amqp {

/// How long after a channel's prefetch window was full its consumer counts as behind a
/// backlog: the window, not the sender, sets the rate then. The connection's reads aim short
/// for this long (channel::read_promptly); a pipeline's own rules may follow the same sign
/// (Telluride's checkpoint rounds, telluride::early_round_mark). A drain at ~40,000
/// deliveries/s fills the window every 30-100 ms, so this spans the whole of it; paced at
/// 5,000/s the window seldom fills (docs/architecture.md, Read pacing, step 5).
inline constexpr std::chrono::milliseconds backlog_span{250};

/// The connection's command queue. It outlives the connection: posting after the connection
/// shut down drops the command. Acknowledgers hold it, and they may outlive everything else.
class mailbox {
public:
  /// Any thread. False when the connection is gone.
  bool post(std::function<void()> command);
  /// Like post, but while the connection paces its reads (read_pacer.hpp) the command waits
  /// for the next paced read instead of waking the loop: at most the read interval later,
  /// which the connection's options bound by longest_read_interval. For work that may wait
  /// that long (acknowledgements while their prefetch window has room); the same as post when
  /// the connection polls its socket.
  bool post_unhurried(std::function<void()> command);
  /// Connection thread: commands posted unhurried run in the loop's next turn instead of
  /// waiting for the paced read (e.g. a prefetch window just filled: the broker sends nothing
  /// more until they run).
  void hurry();

private:
  friend class connection;
  bool push(std::function<void()> command, bool is_hurried);
  void wake_locked();  // mutex_ held
  /// Connection thread: whether a paced read is due (the read timer is armed), which runs the
  /// queue. False wakes the loop for what was posted unhurried meanwhile.
  void expect_paced_read(bool is_expected);
  /// Connection thread, in the paced read: it runs the queue afterwards (take).
  void paced_read_came();
  /// Connection thread: the queue to run now; the next post wakes the loop again.
  std::vector<std::function<void()>> take();

  std::mutex mutex_;
  std::vector<std::function<void()>> queue_;
  bool is_woken_ = false;          // a wake-up (wake_ or soon_) is pending: it runs the queue
  bool expects_paced_read_ = false;  // the read timer is armed: it runs the queue
  uv_async_t* wake_ = nullptr;  // null once closed; guarded by mutex_
  // A post from the connection thread itself starts this idle handle instead: the loop runs
  // the queue in its next turn without writing to its own wake-up descriptor.
  uv_idle_t* soon_ = nullptr;   // guarded by mutex_, like wake_
  std::thread::id owner_;       // the connection thread
};

/// A channel as its user sees it. Loop thread only; valid during the callback it is given to.
class channel {
public:
  amqp_connection_state_t state() const noexcept;
  amqp_channel_t id() const noexcept { return id_; }
  /// Increases with every (re)open of this channel: delivery tags mean something only
  /// within one generation.
  std::uint32_t epoch() const noexcept { return epoch_; }
  /// Connected, this channel open, and no failure waiting to be handled.
  bool is_usable() const noexcept;
  /// False and reports the failure when `reply` is not normal. The channel (or the whole
  /// connection) is torn down once the current callback returns; stop using it.
  bool check(const amqp_rpc_reply_t& reply, std::string_view step);
  /// Same for a status code returned by a send (amqp_basic_ack, amqp_basic_publish...).
  bool check_status(int status, std::string_view step);
  /// Closes this channel on our side (e.g. the broker cancelled our consumer) and reopens it
  /// after backoff.
  void fail(std::string reason);
  /// `channel_user::on_flush` runs within `flush_interval`.
  void request_flush();
  /// `channel_user::on_flush` runs within `within` (at least 1 ms), or sooner when an earlier
  /// request of this channel is due sooner. Requests merge: one on_flush serves all that are due.
  void request_flush(std::chrono::milliseconds within);
  /// This channel no longer needs the flush it asked for (what it was for went another way):
  /// its on_flush does not run, and the loop does not wake for it when no other channel waits
  /// for one.
  void cancel_flush();
  /// The broker is about to send more (e.g. acknowledgements just freed its prefetch window):
  /// read as soon as data arrives, pacing reads from the shortest interval again, instead of
  /// waiting out an interval that grew while little came, and for `backlog_span` aim reads at
  /// a third of the frames (read_pacer.hpp, `hurried`).
  void read_promptly();
  /// When the connection reads its socket next, as seen from inside on_burst_end: in 0 ms when
  /// a pass goes on in the loop's next turn, after the pacer's interval when reads are paced
  /// (read_pacer.hpp), nothing when it polls the socket (the next read comes with the data).
  std::optional<std::chrono::milliseconds> next_read_in() const;
  connection& owner() const noexcept { return *owner_; }

private:
  friend class connection;
  connection* owner_ = nullptr;
  amqp_channel_t id_ = 0;
  std::uint32_t epoch_ = 0;
  bool open_ = false;
  bool failing_ = false;  // a failure was reported; handled when the callback returns
};

/// What lives on a channel. Every callback runs on the connection thread.
class channel_user {
public:
  virtual ~channel_user() = default;
  /// The channel was (re)opened: set it up (qos, declare, consume, confirm.select...) with
  /// RPCs. A failure closes the channel (or the connection) and retries after backoff.
  virtual failure on_open(channel& ch) = 0;
  /// A frame for this channel (deliveries, confirms, cancel-ok...). Its memory is released
  /// after the call: copy what you keep.
  virtual void on_frame(channel& ch, const amqp_frame_t& frame) = 0;
  /// A read burst ended (hand what was read on, in one piece). The connection has already
  /// decided when it reads next (channel::next_read_in).
  virtual void on_burst_end(channel&) {}
  /// Asked for with channel::request_flush.
  virtual void on_flush(channel&) {}
  /// The channel is gone (its channel or connection failed). Everything tied to its
  /// generation is void; on_open follows once it is back.
  virtual void on_lost(const failure& why) = 0;
  /// The broker blocked (true) or unblocked (false) publishing on this connection.
  virtual void on_blocked(bool) {}
  /// The channel is about to be closed cleanly: last chance to send (flush acks).
  virtual void on_closing(channel&) {}
};

} // namespace causeway::amqp
