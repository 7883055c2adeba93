#include "causeway/amqp/connection_impl.hpp"

#include "causeway/amqp/transport.hpp"

#include <amqp_framing.h>
#include <spdlog/spdlog.h>

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace causeway::amqp {

namespace {

using detail::clock_type;

// Frames read per pass before the loop gets a turn for commands and timers (~1300 small
// deliveries); the rest is read from an idle handle in the next iteration.
constexpr std::size_t frames_per_pass = 4096;

// A paced read that leaves this much in the socket was late: one recv takes at most one
// buffer (128 KiB: the frame reader's, or rabbitmq-c's with TLS), and while the rest waits for the next read the socket's
// receive window closes and the broker stops sending (docs/architecture.md, Read pacing).
// ~50 small deliveries: more than arrives while a pass reads one buffer.
constexpr std::size_t late_backlog_bytes = 16 * 1024;

} // namespace

void connection::impl::on_readable(int status) {
  if (!life.has_socket())
    return;
  if (status < 0) {
    // libuv reports POLLERR as EBADF. What the broker sent last (often connection.close
    // with its reason) is still readable; the socket's own error names the rest.
    read_pass();
    if (life.is_usable()) {
      int so_error = 0;
      socklen_t len = sizeof so_error;
      ::getsockopt(amqp_get_sockfd(state.get()), SOL_SOCKET, SO_ERROR, &so_error, &len);
      report(0, failure{failure_scope::connection, 0,
                        "socket error: " + std::string(so_error != 0 ? std::strerror(so_error)
                                                                     : "connection reset")},
             false);
    }
    return;
  }
  last_read = clock_type::now();
  read_pass(true);
}

void connection::impl::pace_reads(std::size_t frames_read, bool behind) {
  if (!life.has_socket() || !poll)
    return;
  const auto next = pacer.after_read(frames_read, behind, last_pass < hurried_until);
  if (!next) {
    uv_timer_stop(&read_timer);  // armed when an early read (on_wake, on_heartbeat) found nothing
    box->expect_paced_read(false);
    start_polling();
    return;
  }
  // Stopping a poll that is not active still costs libuv an epoll_ctl call.
  if (uv_is_active(handle(poll.get())))
    uv_poll_stop(poll.get());
  uv_timer_start(&read_timer, callback<&impl::on_read_timer, work::reads>,
                 static_cast<std::uint64_t>(next->count()), 0);
  box->expect_paced_read(true);
}

void connection::impl::on_read_timer() {
  box->paced_read_came();
  if (life.has_socket() && read_pass(true) > 0)
    last_read = clock_type::now();
  // What was posted unhurried waited for this read (mailbox::post_unhurried).
  run_mailbox();
}

void connection::impl::read_promptly() {
  pacer.restart();
  // Deliveries the broker sent but no read took yet hold slots it waits for: for a while,
  // reads aim at a third of the frames they aim at otherwise.
  hurried_until = clock_type::now() + backlog_span;
  if (!life.has_socket() || !poll)
    return;
  // Whether a paced read is due or a rest is about to be read (read_pacer::carry, whose
  // carry the restart just dropped): from now on, read as data arrives.
  uv_timer_stop(&read_timer);
  box->expect_paced_read(false);
  start_polling();
}

std::optional<std::chrono::milliseconds> connection::impl::next_read_in() noexcept {
  if (uv_is_active(handle(&idle)))
    return std::chrono::milliseconds{0};
  if (uv_is_active(handle(&read_timer)))
    return std::chrono::milliseconds{uv_timer_get_due_in(&read_timer)};
  return std::nullopt;
}

void connection::impl::start_polling() {
  if (uv_is_active(handle(poll.get())))
    return;
  uv_poll_start(poll.get(), UV_READABLE, [](uv_poll_t* h, int status, int) {
    auto* me = self(h);
    me->enter(work::reads, [me, status] { me->on_readable(status); });
  });
}

void connection::impl::read_on_next_turn() {
  uv_idle_start(&idle, callback<&impl::on_idle, work::reads>);
}

void connection::impl::on_idle() {
  uv_idle_stop(&idle);
  read_pass();
}

void connection::impl::note_pending_input() {
  if (!life.has_socket())
    return;
  char byte;
  if (detail::has_buffered_input(state.get(), address) ||
      ::recv(amqp_get_sockfd(state.get()), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
    last_read = clock_type::now();
}

std::size_t connection::impl::socket_backlog() const noexcept {
  int bytes = 0;
  if (::ioctl(amqp_get_sockfd(state.get()), FIONREAD, &bytes) != 0 || bytes < 0)
    return 0;
  return static_cast<std::size_t>(bytes);
}

bool connection::impl::has_unread_input() const noexcept {
  return amqp_data_in_buffer(state.get()) || amqp_frames_enqueued(state.get()) ||
         detail::has_buffered_input(state.get(), address);
}

std::size_t connection::impl::read_pass(bool pace) {
  if (!life.is_usable())
    return 0;
  last_pass = clock_type::now();
  // The rest of a paced read that left much in the socket is part of that read.
  const bool reads_rest = pacer.carries();
  pace = pace || reads_rest;
  bool more = true;
  bool received = false;
  std::size_t n = 0;
  // With `reader`, a pass reads the socket once and decodes all it brought (at most one
  // buffer, so no cap); frames_per_pass caps rabbitmq-c's reads, which take one frame a call.
  for (; reader || n < frames_per_pass; ++n) {
    // Once what one recv brought is used up, stop: asking again would cost a recv that finds
    // nothing and a poll(0) inside rabbitmq-c. Whatever arrived since wakes the poll handle
    // or waits for the read timer. With TLS, one recv into OpenSSL holds many records while
    // rabbitmq-c takes one at a time: those never wake the poll handle, so read them now.
    if (!reader && n > 0 && !has_unread_input()) {
      more = false;
      break;
    }
    amqp_frame_t frame;
    bool from_library = true;
    int rc = AMQP_STATUS_OK;
    if (reader) {
      rc = next_frame(frame, received, from_library);
    } else {
      timeval zero{0, 0};
      rc = amqp_simple_wait_frame_noblock(state.get(), &frame, &zero);
    }
    if (rc == AMQP_STATUS_TIMEOUT) {
      more = false;
      break;
    }
    if (rc != AMQP_STATUS_OK) {
      report(0, read_failure(rc), false);
      more = false;
      break;
    }
    dispatch(frame);
    // Closing a failed channel is an RPC, which reads the socket: not while `reader` holds
    // what an earlier read brought (after the pass, when `enter` applies what is pending).
    if (life.pending_failure() || (!channel_failures.empty() && (!reader || reader->empty())))
      apply_pending();
    if (!life.has_socket())
      return n + 1;
    if (from_library)
      amqp_maybe_release_buffers_on_channel(state.get(), frame.channel);
  }
  if (reader && life.has_socket() && !life.pending_failure()) {
    hand_over_unread();
    if (received)
      refresh_library_heartbeat();
  }
  // A paced read that found more waiting than one recv takes reads the rest on the loop's
  // next turn, and the pacer hears of the two as one read: much of what was left often arrived
  // while the first part was read (a burst from the broker), so the left-over alone says
  // little about the rate. When even the rest leaves much behind, the reads are too far apart
  // for the rate, and they come closer together from now on (read_pacer::after_read).
  // Unpaced, the poll handle reports the rest at once.
  const bool left_much = pace && pacer.paces() && !more && n > 0 && life.has_socket() &&
                         socket_backlog() >= late_backlog_bytes;
  if (left_much && !reads_rest) {
    pacer.carry(n);
    read_on_next_turn();
  } else {
    if ((more || left_much) && life.has_socket())
      read_on_next_turn();
    if (pace)
      pace_reads(n, left_much);
  }
  // Whatever came between, a read always follows: the poll handle, the read timer or the idle
  // handle (a rest) is active while the socket is open.
  if (life.has_socket() && poll && !uv_is_active(handle(poll.get())) &&
      !uv_is_active(handle(&read_timer)) && !uv_is_active(handle(&idle)))
    start_polling();
  for (auto& [id, reg] : channels) {
    if (reg->had_frames) {
      reg->had_frames = false;
      if (reg->ch.is_usable())
        reg->user->on_burst_end(reg->ch);
    }
  }
  return n;
}

int connection::impl::next_frame(amqp_frame_t& frame, bool& received, bool& from_library) {
  amqp_connection_state_t st = state.get();
  for (;;) {
    // rabbitmq-c holds the start of a frame (the end of an earlier read, handed over): the
    // bytes that follow finish it, before anything read here is decoded.
    if (!amqp_release_buffers_ok(st)) {
      if (reader->empty()) {
        if (received)
          return AMQP_STATUS_TIMEOUT;
        if (int rc = receive(); rc <= 0)
          return rc == 0 ? AMQP_STATUS_TIMEOUT : rc;
        received = true;
      }
      frame.frame_type = 0;
      const int used = amqp_handle_input(st, reader->unread(), &frame);
      if (used < 0)
        return used;
      reader->consume(static_cast<std::size_t>(used));
      if (frame.frame_type != 0) {
        from_library = true;
        refresh_library_heartbeat();
        return AMQP_STATUS_OK;
      }
      continue;
    }
    if (int rc = reader->next(frame, static_cast<std::size_t>(amqp_get_frame_max(st))); rc != 0) {
      from_library = false;
      return rc > 0 ? AMQP_STATUS_OK : rc;
    }
    // Frames rabbitmq-c read itself: an RPC's leftovers (queued, or in its buffer). They came
    // after everything read here, which is used up by now unless an RPC ran inside a
    // dispatch; nothing does, and if something did, the order is lost: start over.
    if (amqp_frames_enqueued(st) || amqp_data_in_buffer(st)) {
      if (!reader->empty()) {
        spdlog::error("amqp connection '{}': rabbitmq-c read the socket while a read was being decoded", options.name);
        return AMQP_STATUS_BAD_AMQP_DATA;
      }
      from_library = true;
      timeval zero{0, 0};
      return amqp_simple_wait_frame_noblock(st, &frame, &zero);
    }
    if (received)
      return AMQP_STATUS_TIMEOUT;
    if (int rc = receive(); rc <= 0)
      return rc == 0 ? AMQP_STATUS_TIMEOUT : rc;
    received = true;
  }
}

int connection::impl::receive() { return reader->receive(amqp_get_sockfd(state.get())); }

failure connection::impl::read_failure(int status) const {
  const std::string step = "read from " + address.endpoint();
  if (status == AMQP_STATUS_SOCKET_ERROR && reader && reader->error_number() != 0)
    return failure{failure_scope::connection, 0, step + ": socket error: " + std::strerror(reader->error_number())};
  return describe_status(status, step);
}

void connection::impl::hand_over_unread() {
  while (!reader->empty() && life.has_socket()) {
    amqp_frame_t frame;
    frame.frame_type = 0;
    const int used = amqp_handle_input(state.get(), reader->unread(), &frame);
    if (used < 0) {
      reader->clear();
      report(0, read_failure(used), false);
      return;
    }
    reader->consume(static_cast<std::size_t>(used));
    if (frame.frame_type != 0) {
      // Not expected (a pass decodes every complete frame), and harmless: in order still.
      dispatch(frame);
      amqp_maybe_release_buffers_on_channel(state.get(), frame.channel);
    }
  }
}

void connection::impl::refresh_library_heartbeat() {
  // At most once a second, and only between frames: amqp_tune_connection aborts otherwise.
  amqp_connection_state_t st = state.get();
  if (heartbeat.count() == 0 || last_pass - library_refreshed < std::chrono::seconds{1} ||
      !amqp_release_buffers_ok(st))
    return;
  library_refreshed = last_pass;
  amqp_tune_connection(st, amqp_get_channel_max(st), amqp_get_frame_max(st), static_cast<int>(heartbeat.count()));
}

} // namespace causeway::amqp
