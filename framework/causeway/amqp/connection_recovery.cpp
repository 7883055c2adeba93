// connection_recovery.cpp — failures and recovery: a failure is recorded where it happens
// (report) and applied once the callback returns (apply_pending, from impl::enter): a failed
// channel is closed and reopened after its own backoff, a failed connection torn down and,
// unless it is shutting down, reconnected after backoff.
#include "causeway/amqp/connection_impl.hpp"

#include <amqp_framing.h>
#include <spdlog/spdlog.h>

namespace causeway::amqp {

namespace {

using detail::clock_type;

} // namespace

void connection::impl::report(amqp_channel_t id, failure why, bool broker_closed) {
  if (why.scope == failure_scope::connection) {
    life.on_failure(std::move(why));
    return;
  }
  if (why.scope != failure_scope::channel)
    return;
  if (auto it = channels.find(id); it != channels.end())
    it->second->ch.failing_ = true;
  // One close per channel: a second report (the broker's channel.close after our own check
  // failed, or the other way round) joins the first, so the channel is closed, or its
  // channel.close answered, exactly once. The broker's close wins: it waits for close-ok.
  for (auto& pending : channel_failures) {
    if (pending.id != id)
      continue;
    if (broker_closed && !pending.broker_closed) {
      pending.why = std::move(why);
      pending.broker_closed = true;
    }
    return;
  }
  channel_failures.push_back({id, std::move(why), broker_closed});
}

void connection::impl::apply_pending() {
  if (const failure* pending = life.pending_failure()) {
    failure why = *pending;
    channel_failures.clear();
    lose_connection(why);
    return;
  }
  auto list = std::move(channel_failures);
  channel_failures.clear();
  for (auto& pending : list) {
    if (!life.has_socket())
      break;
    if (pending.broker_closed) {
      amqp_channel_close_ok_t ok{};
      int rc = amqp_send_method(state.get(), pending.id, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      if (rc != AMQP_STATUS_OK)
        report(0, describe_status(rc, "answer channel.close"), false);
    } else {
      auto reply = amqp_channel_close(state.get(), pending.id, AMQP_REPLY_SUCCESS);
      if (failure f = describe(reply, "close channel"); f.scope == failure_scope::connection)
        report(0, f, false);
    }
    auto it = channels.find(pending.id);
    if (it == channels.end())
      continue;
    auto& reg = *it->second;
    reg.ch.open_ = false;
    reg.ch.failing_ = false;
    ++channel_losses;
    reg.user->on_lost(pending.why);
    if (clock_type::now() - reg.opened_at >= options.healthy_after) {
      reg.retry_backoff.reset();
      reg.last_logged.clear();
    }
    auto delay = reg.retry_backoff.next(rng);
    // Once per failure: the same failure on every retry (a queue declared with other
    // arguments...) is logged again only at debug level.
    if (pending.why.message != reg.last_logged) {
      spdlog::log(pending.why.is_expected ? spdlog::level::info : spdlog::level::warn,
                  "amqp connection '{}': channel {} closed: {}; reopening with backoff", options.name, pending.id,
                  pending.why.message);
      reg.last_logged = pending.why.message;
    } else {
      spdlog::debug("amqp connection '{}': channel {} closed again: {}; reopening in {} ms",
                    options.name, pending.id, pending.why.message, delay.count());
    }
    uv_timer_start(reg.retry_timer.get(), [](uv_timer_t* h) {
      auto* r = static_cast<registration*>(h->data);
      r->home->enter(work::sends, [r] { r->home->reopen(*r); });
    }, static_cast<std::uint64_t>(delay.count()), 0);
  }
  if (!list.empty())
    note_health();
  if (life.pending_failure())
    apply_pending();
}

void connection::impl::reopen(registration& reg) {
  if (!life.is_usable() || reg.ch.open_)
    return;
  open_channel(reg);
}

void connection::impl::lose_connection(const failure& why) {
  poll.reset();
  uv_timer_stop(&heartbeat_timer);
  uv_timer_stop(&flush_timer);
  uv_timer_stop(&read_timer);
  box->expect_paced_read(false);
  uv_idle_stop(&idle);
  pacer.restart();  // a new connection's reads start from the shortest interval, carrying nothing
  state.reset();
  if (reader)
    reader->clear();  // the rest of the lost connection's read
  bool reconnect = life.on_lost();
  is_connected = false;
  is_blocked = false;
  for (auto& [id, reg] : channels) {
    uv_timer_stop(reg->retry_timer.get());
    reg->wants_flush = false;
    if (reg->ch.open_) {
      reg->ch.open_ = false;
      reg->ch.failing_ = false;
      reg->user->on_lost(why);
    }
  }
  if (!reconnect)
    return;
  ++losses;
  if (health.on_loss(clock_type::now()))
    reconnect_backoff.reset();
  first_retry_attempt = reconnect_backoff.attempts();
  auto delay = next_retry_delay();
  spdlog::warn("amqp connection '{}' to {} lost: {}; reconnecting in {} ms", options.name,
               address.masked(), why.message, delay.count());
  last_logged = why.message;
  uv_timer_start(&reconnect_timer, callback<&impl::on_reconnect, work::sends>,
                 static_cast<std::uint64_t>(delay.count()), 0);
}

void connection::impl::note_health() {
  bool everything_open = life.is_usable();
  for (const auto& [id, reg] : channels)
    everything_open = everything_open && reg->ch.is_usable();
  health.update(everything_open, clock_type::now());
}

std::chrono::milliseconds connection::impl::next_retry_delay() {
  auto delay = reconnect_backoff.next(rng);
  retry_attempts = reconnect_backoff.attempts();
  return delay;
}

} // namespace causeway::amqp
