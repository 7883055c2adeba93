// connection.hpp — one AMQP connection, owned by one thread running a libuv loop.
//
// rabbitmq-c is not thread-safe: only the connection thread touches the rabbitmq-c state.
// Other threads `post` commands (closures) and the thread runs them; posts coalesce, the
// thread drains the whole queue per wake-up. The thread polls the socket and, after each
// readable event, reads every buffered frame (bounded per pass, continued from an idle
// handle), routes each to the channel it belongs to, and tells each channel when a read
// burst ended. While frames keep coming it reads on a timer instead of polling (read pacing:
// docs/architecture.md). A timer sends heartbeats and notices a silent broker; another flushes
// what channels asked to flush (coalesced acks).
//
// Channels are attached by `channel_user`s (the queue channel of a producer stage, the
// publisher), which speak rabbitmq-c on the connection thread: channel.hpp (internal).
// The connection opens them, reopens them after a channel-level failure and, after a
// connection-level failure, reconnects with exponential backoff and jitter (never instantly)
// and reopens every channel; each (re)open calls `channel_user::on_open` with a new channel
// generation. Consuming and publishing use separate connections: writes block, and the
// broker stops reading publishing connections under memory or disk alarms.
#pragma once

#include "causeway/amqp/backoff.hpp"
#include "causeway/amqp/error.hpp"
#include "causeway/amqp/url.hpp"
#include "causeway/expected.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::amqp {

struct connection_options {
  std::string url{"amqp://guest:guest@127.0.0.1:5672/%2f"};
  /// Shown as the connection name in the management UI and in `rabbitmqctl list_connections`.
  std::string name{"causeway"};
  std::chrono::seconds heartbeat{30};  ///< 0 disables heartbeats
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds rpc_timeout{10000};
  backoff_options reconnect;            ///< 100 ms → 30 s by default
  /// A connection that stayed open this long with every channel open (see health_streak.hpp),
  /// or a channel that stayed open this long, starts its next backoff at the first attempt's
  /// delay. Shorter-lived ones go on backing off, so a broker that accepts and drops at once
  /// is not hammered.
  std::chrono::milliseconds healthy_after{2000};
  /// The longest a channel waits between asking for a flush and getting it.
  std::chrono::milliseconds flush_interval{2};
  /// While data keeps arriving, the socket is read once per `read_interval` instead of on
  /// every readable event (docs/architecture.md, Read pacing). 0: read on every event.
  std::chrono::milliseconds read_interval{1};
  /// Up to how far the interval between reads stretches while reads bring few frames (a low,
  /// steady rate): fewer wake-ups per message, at most this much more latency (read_pacer.hpp).
  /// At most read_interval (the default): the interval stays read_interval.
  std::chrono::milliseconds longest_read_interval{0};
};

/// Counters readable from any thread.
struct connection_stats {
  std::uint64_t connects = 0;        ///< successful opens, the first included
  std::uint64_t losses = 0;          ///< connection-level failures after an open
  std::uint64_t channel_losses = 0;  ///< channel-level failures
  std::uint64_t blocked = 0;         ///< connection.blocked notifications (broker alarms)
  bool is_connected = false;
  bool is_blocked = false;
  /// The backoff attempt index of the first reconnect delay after the latest loss: 0 when
  /// the retries started over (the connection had proved healthy), n when they went on.
  std::uint32_t first_retry_attempt = 0;
  /// Reconnect delays taken since the retries last started over.
  std::uint32_t retry_attempts = 0;
};

class channel;
class channel_user;
class mailbox;

/// A channel's number on its connection (rabbitmq-c's amqp_channel_t).
using channel_id = std::uint16_t;

class connection {
public:
  /// Connects (blocking up to connect_timeout + rpc_timeout) and starts the thread. An
  /// unreachable host, a refused login or a missing vhost comes back as one-line error;
  /// after this first success, losses are repaired by reconnecting.
  static expected<std::shared_ptr<connection>> open(connection_options options);

  /// Closes every channel (on_closing first) and the connection, and joins the thread.
  /// Must not run on the connection thread.
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Runs `command` on the connection thread. Any thread. Returns false (and drops the
  /// command) once the connection is shut down.
  bool post(std::function<void()> command);
  const std::shared_ptr<amqp::mailbox>& mailbox() const noexcept;
  /// Posts `command` and waits until it ran; false if it was dropped because the connection
  /// shut down. On the connection thread itself it runs `command` at once. Each RPC in a
  /// command is bounded by rpc_timeout.
  bool run_sync(std::function<void()> command);

  connection_stats stats() const noexcept;
  /// Connection threads (of any connection, ever) whose libuv loop still had live handles
  /// when it ended: always 0 unless there is a handle leak. Tests check it.
  static std::uint64_t unclean_loop_closes() noexcept;
  const connection_options& options() const noexcept;
  const amqp::url& address() const noexcept;
  bool in_connection_thread() const noexcept;

  // --- connection thread only ---
  /// Gives `user` a channel; opens it now when connected. Returns the channel number.
  channel_id attach(std::shared_ptr<channel_user> user);
  /// Closes the channel cleanly (on_closing, channel.close) and forgets its user.
  void detach(channel_id id);
  /// Runs `work` on the connection thread once `due` has come (in the loop's next turn if it
  /// has), unless cancel_alarm comes first; dropped when the connection shuts down. For time
  /// kept by work that runs on this thread anyway: the loop that wakes for it needs no thread
  /// of its own to wake it. Returns the alarm's number (never 0).
  std::uint64_t set_alarm(std::chrono::steady_clock::time_point due, std::function<void()> work);
  /// The alarm does not ring; no-op when it rang already, was cancelled, or is 0.
  void cancel_alarm(std::uint64_t alarm);
  /// Runs `work` on a fresh channel that is closed afterwards; for one-off RPCs such as
  /// declarations. A channel-level failure is returned; a connection-level one is returned
  /// too and the connection reconnects.
  failure with_temporary_channel(const std::function<failure(channel&)>& work);
  bool is_connected() const noexcept;

  class impl;

private:
  struct passkey {
    explicit passkey() = default;
  };

public:
  connection(passkey, std::unique_ptr<impl> impl);

private:
  friend class channel;
  std::unique_ptr<impl> impl_;
};

} // namespace causeway::amqp
