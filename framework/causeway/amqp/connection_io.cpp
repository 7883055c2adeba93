#include "causeway/amqp/connection_impl.hpp"

#include <amqp_framing.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace causeway::amqp {

namespace {

using detail::clock_type;

std::int64_t ms_count(clock_type::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

} // namespace

void connection::impl::dispatch(const amqp_frame_t& frame) {
  bool is_method = frame.frame_type == AMQP_FRAME_METHOD;
  if (frame.channel == 0) {
    if (!is_method)
      return;
    on_connection_method(frame.payload.method);
    return;
  }
  auto it = channels.find(frame.channel);
  if (is_method && frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    on_channel_close(frame.channel, frame.payload.method, it != channels.end() && it->second->ch.open_);
    return;
  }
  if (it == channels.end() || !it->second->ch.is_usable())
    return;
  it->second->had_frames = true;
  it->second->user->on_frame(it->second->ch, frame);
}

void connection::impl::on_channel_close(amqp_channel_t id, const amqp_method_t& method, bool is_open) {
  // RabbitMQ can send channel.close twice in a row (3.10 does for an acknowledgement timeout).
  // Only the first is answered: a close-ok for a channel the broker already finished closing
  // is a connection error ("expected 'channel.open'") that would take every channel down.
  // A channel already closed on our side (answered, or never reopened) has nothing to answer.
  if (!is_open) {
    spdlog::debug("amqp connection '{}': channel {} closed again by the broker; already closed, not answered",
                  options.name, id);
    return;
  }
  report(id, describe_close(method, "channel " + std::to_string(id)), true);
}

void connection::impl::on_connection_method(const amqp_method_t& method) {
  switch (method.id) {
    case AMQP_CONNECTION_CLOSE_METHOD: {
      amqp_connection_close_ok_t ok{};
      amqp_send_method(state.get(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      report(0, describe_close(method, "broker closed the connection"), false);
      break;
    }
    case AMQP_CONNECTION_BLOCKED_METHOD: {
      const auto* m = static_cast<const amqp_connection_blocked_t*>(method.decoded);
      std::string reason(static_cast<const char*>(m->reason.bytes), m->reason.len);
      ++blocked_count;
      is_blocked = true;
      spdlog::warn("amqp connection '{}': broker blocked publishing ({}); paused", options.name,
                   reason);
      for (auto& [id, reg] : channels)
        reg->user->on_blocked(true);
      break;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      is_blocked = false;
      spdlog::info("amqp connection '{}': broker unblocked publishing; resumed", options.name);
      for (auto& [id, reg] : channels)
        reg->user->on_blocked(false);
      break;
    default:
      break;
  }
}

void connection::impl::kick() {
  if (life.has_socket() && state && has_unread_input())
    read_on_next_turn();
}

void connection::impl::on_heartbeat() {
  if (!life.has_socket())
    return;
  note_pending_input();
  auto silent = clock_type::now() - last_read;
  if (heartbeat.count() > 0 && silent > 2 * heartbeat + std::chrono::seconds{1}) {
    report(0, failure{failure_scope::connection, 0,
                      "no heartbeat from the broker for " +
                        std::to_string(ms_count(silent) / 1000) + " s"}, false);
    return;
  }
  // rabbitmq-c sends our heartbeat from its reads when due; `reader` reads without it.
  if (reader && clock_type::now() - heartbeat_sent >= heartbeat / 2) {
    amqp_frame_t beat{};
    beat.frame_type = AMQP_FRAME_HEARTBEAT;
    if (int rc = amqp_send_frame(state.get(), &beat); rc != AMQP_STATUS_OK) {
      report(0, describe_status(rc, "send a heartbeat to " + address.endpoint()), false);
      return;
    }
    heartbeat_sent = clock_type::now();
  }
  read_pass(true);  // paced: see on_wake
}

void connection::impl::request_flush(channel& ch, std::chrono::milliseconds within) {
  auto it = channels.find(ch.id_);
  if (it == channels.end())
    return;
  auto& reg = *it->second;
  const auto due = uv_now(&loop) + static_cast<std::uint64_t>(std::max<std::int64_t>(within.count(), 1));
  if (reg.wants_flush && reg.flush_due <= due)
    return;  // an earlier request serves this one too
  reg.wants_flush = true;
  reg.flush_due = due;
  arm_flush_timer(due);
}

void connection::impl::cancel_flush(channel& ch) {
  auto it = channels.find(ch.id_);
  if (it == channels.end() || !it->second->wants_flush)
    return;
  it->second->wants_flush = false;
  for (const auto& [id, reg] : channels)
    if (reg->wants_flush)
      return;  // on_flush re-arms the timer for the earliest of those
  uv_timer_stop(&flush_timer);
}

void connection::impl::arm_flush_timer(std::uint64_t due) {
  auto* timer = &flush_timer;
  if (uv_is_active(handle(timer)) && uv_now(&loop) + uv_timer_get_due_in(timer) <= due)
    return;
  uv_timer_start(timer, callback<&impl::on_flush, work::sends>, due - std::min(due, uv_now(&loop)), 0);
}

void connection::impl::on_flush() {
  // Channels whose request is due get on_flush; the timer waits on for the earliest of the rest.
  const auto now = uv_now(&loop);
  std::optional<std::uint64_t> next;
  for (auto& [id, reg] : channels) {
    if (!reg->wants_flush)
      continue;
    if (reg->flush_due > now) {
      next = std::min(next.value_or(reg->flush_due), reg->flush_due);
      continue;
    }
    reg->wants_flush = false;
    if (reg->ch.is_usable())
      reg->user->on_flush(reg->ch);
  }
  if (next)
    arm_flush_timer(*next);
}

std::uint64_t connection::impl::set_alarm(detail::clock_type::time_point due, std::function<void()> work) {
  const bool is_earliest = alarms.empty() || due < *alarms.earliest();
  const auto alarm = alarms.add(due, std::move(work));
  if (is_earliest)
    arm_alarm_timer();
  return alarm;
}

void connection::impl::cancel_alarm(std::uint64_t alarm) {
  // The timer stays armed for a cancelled earliest alarm: re-arming it here would cost as much
  // as the turn it may cost (often none: the loop wakes for reads before it is due).
  alarms.remove(alarm);
}

void connection::impl::arm_alarm_timer() {
  const auto earliest = alarms.earliest();
  if (!earliest) {
    uv_timer_stop(&alarm_timer);
    return;
  }
  // libuv's timers count whole milliseconds of loop time, which the loop updates once a turn:
  // brought up to date and rounded up, so that it never rings early.
  uv_update_time(&loop);
  const auto in = *earliest - clock_type::now();
  const auto ms = std::chrono::ceil<milliseconds>(std::max(in, clock_type::duration::zero())).count();
  uv_timer_start(&alarm_timer, callback<&impl::on_alarm, work::sends>, static_cast<std::uint64_t>(ms), 0);
}

void connection::impl::on_alarm() {
  for (auto& work : alarms.take_due(clock_type::now()))
    work();  // may set or cancel alarms
  arm_alarm_timer();
}

void connection::impl::on_soon() {
  uv_idle_stop(&soon);
  on_wake();
}

void connection::impl::on_wake() {
  // rabbitmq-c 0.11 can hang in a send once the heartbeat deadline passed: read first. That
  // read paces the reads after it like any other: unpaced, deliveries it brought while the
  // socket was polled would wait for their hand-off's flush (channel::next_read_in knew of no
  // read to come), and while a paced read was due the timer would keep its old time.
  if (life.has_socket() && clock_type::now() - last_pass > std::chrono::seconds{1}) {
    note_pending_input();
    read_pass(true);
    apply_pending();  // before the commands, which may use what failed
  }
  run_mailbox();
}

void connection::impl::run_mailbox() {
  auto commands = box->take();
  for (auto& command : commands) {
    if (life.is_shutting_down())
      break;  // the rest is dropped: its promises break, run_sync returns false
    command();
    apply_pending();  // before the next command, which may use what failed
  }
}

} // namespace causeway::amqp
