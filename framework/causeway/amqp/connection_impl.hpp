// connection_impl.hpp — the inside of `connection`: its thread, loop, state and channels.
//
// Internal to the AMQP module. Everything here runs on the connection thread except the
// atomics (read by stats()) and the mailbox (posted to by any thread). connection.cpp holds
// the life cycle (thread, connect, attach/detach, shutdown); connection_reads.cpp reading
// frames (polling, paced passes, frame_reader); connection_io.cpp the rest of a running
// connection's work (routing frames, heartbeats, timers, commands); connection_recovery.cpp
// failures and recovery. Where the connection is in its life: connection_phase.hpp.
#pragma once

#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/connection_phase.hpp"
#include "causeway/amqp/frame_reader.hpp"
#include "causeway/amqp/health_streak.hpp"
#include "causeway/amqp/read_pacer.hpp"
#include "causeway/amqp/uv_handle.hpp"
#include "causeway/detail/due_queue.hpp"

#include <amqp.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace causeway::amqp {

namespace detail {

using clock_type = std::chrono::steady_clock;

struct state_deleter {
  void operator()(amqp_connection_state_t state) const noexcept { amqp_destroy_connection(state); }
};
using state_ptr = std::unique_ptr<std::remove_pointer_t<amqp_connection_state_t>, state_deleter>;

} // namespace detail

class connection::impl {
public:
  struct registration {
    impl* home = nullptr;
    std::shared_ptr<channel_user> user;
    channel ch;
    backoff retry_backoff;
    detail::uv_handle_ptr<uv_timer_t> retry_timer;
    detail::clock_type::time_point opened_at;
    bool wants_flush = false;
    std::uint64_t flush_due = 0;  // loop time (ms) by which on_flush runs, while wants_flush
    bool had_frames = false;
    std::string last_logged;  // the last failure logged at warn level
  };

  struct pending_channel_failure {
    amqp_channel_t id;
    failure why;
    bool broker_closed;  // the broker sent channel.close: answer close-ok
  };

  impl(connection_options opts, amqp::url addr)
    : options(std::move(opts)),
      address(std::move(addr)),
      reconnect_backoff(options.reconnect),
      health(options.healthy_after),
      pacer(options.read_interval, options.longest_read_interval) {}

  connection_options options;
  amqp::url address;
  std::shared_ptr<amqp::mailbox> box = std::make_shared<amqp::mailbox>();
  connection* owner = nullptr;
  std::thread thread;
  std::atomic<std::thread::id> thread_id{};

  uv_loop_t loop{};
  uv_async_t wake{};
  uv_timer_t heartbeat_timer{};
  uv_timer_t flush_timer{};
  uv_timer_t read_timer{};
  uv_timer_t reconnect_timer{};
  uv_timer_t alarm_timer{};  // for the earliest of `alarms`
  uv_idle_t idle{};
  uv_idle_t soon{};  // runs the mailbox in the next turn after a post from this thread
  detail::uv_handle_ptr<uv_poll_t> poll;

  detail::state_ptr state;
  /// Plain TCP: frames read and decoded in place (frame_reader.hpp); null with TLS, whose
  /// records only rabbitmq-c's socket reads.
  std::unique_ptr<detail::frame_reader> reader;
  detail::connection_lifecycle life;  // connection_phase.hpp: what may be done now
  std::vector<pending_channel_failure> channel_failures;
  std::map<amqp_channel_t, std::unique_ptr<registration>> channels;
  backoff reconnect_backoff;
  health_streak health;  // whether the next loss starts reconnect_backoff over
  read_pacer pacer;      // the interval between reads while frames keep coming
  std::mt19937_64 rng{std::random_device{}()};
  detail::clock_type::time_point last_read;
  detail::clock_type::time_point last_pass;
  detail::clock_type::time_point hurried_until;  // reads aim short until then (read_promptly)
  detail::clock_type::time_point heartbeat_sent;       // by on_heartbeat, while `reader` reads
  detail::clock_type::time_point library_refreshed;    // refresh_library_heartbeat
  std::chrono::seconds heartbeat{0};
  std::string last_logged;
  causeway::detail::due_queue alarms;  // set_alarm's work

  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> losses{0};
  std::atomic<std::uint64_t> channel_losses{0};
  std::atomic<std::uint64_t> blocked_count{0};
  std::atomic<bool> is_connected{false};
  std::atomic<bool> is_blocked{false};
  std::atomic<std::uint32_t> first_retry_attempt{0};
  std::atomic<std::uint32_t> retry_attempts{0};

  // --- thread body ---

  void run(std::promise<failure> first);

  static impl* self(void* handle_ptr) {
    return static_cast<impl*>(static_cast<uv_handle_t*>(handle_ptr)->data);
  }

  /// What a callback's handler does, which decides what follows it.
  enum class work : std::uint8_t {
    /// Reads frames: a pass that stops early continues itself from the idle handle, and one
    /// that found nothing complete must not be retried at once (a partial TLS record would
    /// spin the loop).
    reads,
    /// Runs RPCs or commands: their replies can leave frames in rabbitmq-c's buffer that no
    /// poll event announces, so they are read in the next turn (kick).
    sends,
  };

  /// Every libuv callback enters the connection here: it runs `handler`, then applies the
  /// failures the handler reported (closing channels, or tearing the connection down) and,
  /// after `work::sends`, reads what rabbitmq-c buffered meanwhile. No callback can forget.
  template <class Handler>
  void enter(work kind, Handler&& handler) {
    std::forward<Handler>(handler)();
    apply_pending();
    if (kind == work::sends)
      kick();
  }
  /// A libuv callback (timer, idle, async) that enters through `enter` to run `Handler`.
  template <void (impl::*Handler)(), work Kind, class H>
  static void callback(H* h) {
    auto* me = self(h);
    me->enter(Kind, [me] { (me->*Handler)(); });
  }
  template <class H>
  static uv_handle_t* handle(H* h) {
    return reinterpret_cast<uv_handle_t*>(h);
  }

  void close_handles();

  // --- connecting ---

  failure connect_now();
  void on_reconnect();

  // --- failures ---

  /// Records a failure; applied by apply_pending, when the current callback returns.
  void report(amqp_channel_t id, failure why, bool broker_closed);
  /// Closes the failed channels (to be reopened after backoff) or, after a connection-level
  /// failure, the connection (to reconnect unless shutting down).
  void apply_pending();
  void reopen(registration& reg);
  void lose_connection(const failure& why);
  // Tells `health` whether the connection and every channel are open now; after every
  // change of either.
  void note_health();
  // The delay before the next reconnect attempt (counted in retry_attempts).
  std::chrono::milliseconds next_retry_delay();

  // --- channels ---

  amqp_channel_t free_channel_id() const;
  void open_channel(registration& reg);
  amqp_channel_t attach(std::shared_ptr<channel_user> user);
  void detach(amqp_channel_t id);
  failure with_temporary_channel(const std::function<failure(channel&)>& work);

  // --- reading ---

  void on_readable(int status);
  // Busy: stop polling, read again after the pacer's interval. Quiet: poll again. `behind`:
  // the read left much in the socket (socket_backlog).
  void pace_reads(std::size_t frames_read, bool behind);
  /// Bytes the kernel holds for this connection that no read took yet (FIONREAD).
  std::size_t socket_backlog() const noexcept;
  void on_read_timer();
  /// Drops a pending paced read for polling (data is read as it arrives), and the pacer's
  /// interval back to its shortest; for `backlog_span` from now its reads aim short
  /// (read_pacer::after_read, `hurried`).
  void read_promptly();
  std::optional<std::chrono::milliseconds> next_read_in() noexcept;
  void start_polling();
  /// Reads on in the loop's next turn, from the idle handle.
  void read_on_next_turn();
  void on_idle();

  // Data that a pass reads outside a poll event (timer, command) is proof of life too.
  void note_pending_input();
  /// Input already taken from the socket and not yet read as frames: in rabbitmq-c's buffer
  /// or frame queue, or (TLS) inside OpenSSL. The socket's readiness does not announce it.
  bool has_unread_input() const noexcept;
  /// Frames read. `pace`: a read of the socket (readable event or read timer), which then
  /// decides when the next one comes (pace_reads) before the channels hear that the burst ended.
  std::size_t read_pass(bool pace = false);
  /// With `reader`: the next frame of a pass, in the order the broker sent them. AMQP_STATUS_OK
  /// and `frame` (`from_library`: decoded by rabbitmq-c, in its channel pool); AMQP_STATUS_TIMEOUT
  /// once what the pass's one read (`received`) brought is used up; or an error.
  int next_frame(amqp_frame_t& frame, bool& received, bool& from_library);
  /// Reads the socket once into `reader`: > 0 bytes, 0 none, or an error (read_failure).
  int receive();
  failure read_failure(int status) const;
  /// What a pass's read ended with, the start of a frame, goes to rabbitmq-c, which finishes
  /// it with the bytes that follow: the next pass feeds them to it, or an RPC reads them.
  void hand_over_unread();
  /// rabbitmq-c counts the broker silent from its own reads, which `reader` leaves it few of:
  /// tells it of ours, lest an RPC or a send give up on a broker that talks.
  void refresh_library_heartbeat();
  void dispatch(const amqp_frame_t& frame);
  /// The broker closed channel `id`: answered with close-ok once, only while it is open here.
  void on_channel_close(amqp_channel_t id, const amqp_method_t& method, bool is_open);
  void on_connection_method(const amqp_method_t& method);

  // Frames rabbitmq-c already holds (read during an RPC) do not wake the poll handle: read
  // them on the next turn.
  void kick();

  // --- timers and commands ---

  void on_heartbeat();
  void request_flush(channel& ch, std::chrono::milliseconds within);
  void cancel_flush(channel& ch);
  /// Starts the flush timer for loop time `due` unless it runs and is due sooner.
  void arm_flush_timer(std::uint64_t due);
  void on_flush();
  std::uint64_t set_alarm(detail::clock_type::time_point due, std::function<void()> work);
  void cancel_alarm(std::uint64_t alarm);
  /// Rings the alarms that are due, then waits for the earliest of the rest.
  void on_alarm();
  void arm_alarm_timer();
  void on_wake();
  /// Runs what the mailbox holds (on_wake, and the paced read for what was posted unhurried).
  void run_mailbox();
  /// The mailbox after a post from this thread (the `soon` idle handle): once, then on_wake.
  void on_soon();
  void shutdown();
};

} // namespace causeway::amqp
